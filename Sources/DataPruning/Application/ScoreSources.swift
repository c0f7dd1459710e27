import Foundation
import Recipes
import ResultStore
import Runtime

/// The scores a run retrains by and the run that recorded each: a sweep's own, or those of `retrain.score_runs`.
struct ScoreSources {
    /// Score names in the order they are retrained.
    let names: [String]
    /// The run that recorded each name.
    let runs: [String: Int64]
    private let store: ResultStore

    init(config: DataPruningApplication.Config, context: RunContext) throws {
        store = context.recorder.store
        switch config.stage {
        case .sweep:
            let computed = [config.metaScoreName] + config.baselines.parsedScores.map(\.rawValue)
            let wanted = config.retrain.scores.isEmpty ? computed : config.retrain.scores
            try Self.check(wanted, available: computed, what: "this sweep computes")
            names = wanted
            runs = Dictionary(uniqueKeysWithValues: wanted.map { ($0, context.runID) })
        case .retrain:
            var owners: [String: Int64] = [:]
            for run in config.retrain.scoreRuns {
                let recorded: [String]
                do {
                    recorded = try store.scoreNames(run: run)
                } catch {
                    throw InvalidSetting("retrain.score_runs", "run \(run): \(error.localizedDescription)")
                }
                for name in recorded {
                    if let other = owners[name], other != run {
                        throw InvalidSetting(
                            "retrain.score_runs", "runs \(other) and \(run) both recorded the score '\(name)'; list one of them")
                    }
                    owners[name] = run
                }
            }
            let available = owners.keys.sorted()
            guard !available.isEmpty else {
                throw InvalidSetting("retrain.score_runs", "runs \(config.retrain.scoreRuns) recorded no pruning scores")
            }
            let wanted = config.retrain.scores.isEmpty ? available : config.retrain.scores
            try Self.check(wanted, available: available, what: "runs \(config.retrain.scoreRuns) recorded")
            names = wanted
            runs = owners.filter { wanted.contains($0.key) }
        case .score, .baselines:
            names = []
            runs = [:]
        }
    }

    private static func check(_ wanted: [String], available: [String], what: String) throws {
        for (i, name) in wanted.enumerated() where !available.contains(name) {
            throw InvalidSetting(
                "retrain.scores[\(i)]",
                "no score '\(name)': \(what) \(available.joined(separator: ", "))"
                    + (EditDistance.closest(to: name, in: available).map { "; did you mean '\($0)'?" } ?? ""))
        }
        guard Set(wanted).count == wanted.count else { throw InvalidSetting("retrain.scores", "lists a score twice") }
    }

    /// Score `name` of every sample of `split` (by its id), read from the store at the score's latest step.
    func values(_ name: String, for split: ImageSplit) throws -> [Double] {
        guard let run = runs[name] else { throw InvalidSetting("retrain.scores", "no run recorded the score '\(name)'") }
        let rows = try store.scores(run: run, name: name)
        let position = Dictionary(split.ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var values = [Double](repeating: .nan, count: split.count)
        for row in rows {
            guard let key = row.key, let index = position[key] else { continue }
            values[index] = row.score
        }
        if let missing = values.firstIndex(where: \.isNaN) {
            throw InvalidSetting(
                "retrain.score_runs",
                "run \(run)'s score '\(name)' has no value for sample '\(split.ids[missing])' of this run's dataset "
                    + "(scored on other data?)")
        }
        return values
    }
}
