import Foundation

/// Read-side API of `pruning_scores`: one score per (run, name, step, sample). Higher means more worth keeping.
extension ResultStore {
    /// The names of the pruning scores a run recorded, sorted.
    public func scoreNames(run runID: Int64) throws -> [String] {
        try requireRun(runID)
        let statement = try connection.prepare("SELECT DISTINCT name FROM pruning_scores WHERE run_id = ? ORDER BY name")
        statement.bind(1, runID)
        return try statement.all { $0.text(0) ?? "" }
    }

    /// `name` when the run recorded scores under it; with nil, the run's only score name. Throws
    /// ``StoreError/unknownScoreName(path:runID:name:available:)`` listing the run's names otherwise.
    public func resolveScoreName(run runID: Int64, _ name: String?) throws -> String {
        let names = try scoreNames(run: runID)
        if let name {
            guard names.contains(name) else {
                throw StoreError.unknownScoreName(path: path, runID: runID, name: name, available: names)
            }
            return name
        }
        guard !names.isEmpty else { throw StoreError.noResults(path: path, runID: runID, what: "pruning scores") }
        guard names.count == 1 else {
            throw StoreError.invalidArgument("run \(runID) has several pruning scores (\(names.joined(separator: ", "))); name one")
        }
        return names[0]
    }

    /// The steps at which the run recorded score `name`, ascending.
    public func scoreSteps(run runID: Int64, name: String) throws -> [Int] {
        let name = try resolveScoreName(run: runID, name)
        let statement = try connection.prepare(
            "SELECT DISTINCT step FROM pruning_scores WHERE run_id = ? AND name = ? ORDER BY step")
        statement.bind(1, runID)
        statement.bind(2, name)
        return try statement.all { $0.int(0) }
    }

    /// `step` when the run recorded `name` at it; nil gives the latest step of `name`. Throws naming the last step.
    public func requireScoreStep(run runID: Int64, name: String, _ step: Int?) throws -> Int {
        let steps = try scoreSteps(run: runID, name: name)
        guard let last = steps.last else { throw StoreError.noResults(path: path, runID: runID, what: "pruning scores '\(name)'") }
        guard let step else { return last }
        guard steps.contains(step) else {
            throw StoreError.noResults(
                path: path, runID: runID,
                what: "pruning scores '\(name)' at step \(step) (its last step is \(last))")
        }
        return step
    }

    /// The scores under `name` (nil: the run's only name) at `step` (nil: that name's latest step), highest first
    /// (ties by sample id; `ascending` reverses the value order), optionally only the first `limit`.
    public func scores(
        run runID: Int64, name: String? = nil, step: Int? = nil, limit: Int? = nil,
        ascending: Bool = false
    ) throws -> [SampleScore] {
        if let limit, limit <= 0 { throw StoreError.invalidArgument("the number of scores must be positive, got \(limit)") }
        let name = try resolveScoreName(run: runID, name)
        let step = try requireScoreStep(run: runID, name: name, step)
        let statement = try connection.prepare(
            """
            SELECT p.sample_id, p.score, s.key FROM pruning_scores p
            LEFT JOIN samples s ON s.run_id = p.run_id AND s.sample_id = p.sample_id
            WHERE p.run_id = ? AND p.name = ? AND p.step = ?
            ORDER BY p.score \(ascending ? "ASC" : "DESC"), p.sample_id LIMIT ?
            """)
        statement.bind(1, runID)
        statement.bind(2, name)
        statement.bind(3, step)
        statement.bind(4, Int64(limit ?? -1))
        return try statement.all {
            SampleScore(sampleID: $0.int(0), score: $0.double(1), key: $0.text(2), name: name, step: step)
        }
    }

    /// Equal-width histogram of score `name` (nil: the run's only name) at `step` (nil: its latest step).
    public func scoreHistogram(run runID: Int64, name: String? = nil, bins: Int = 20, step: Int? = nil) throws -> WeightHistogram {
        let name = try resolveScoreName(run: runID, name)
        let step = try requireScoreStep(run: runID, name: name, step)
        return try histogram(
            table: "pruning_scores", column: "score", filter: "name = ?3 AND step = ?4", bins: bins, step: step,
            run: runID, what: "pruning scores '\(name)' at step \(step)"
        ) {
            $0.bind(3, name)
            $0.bind(4, step)
        }
    }
}

/// What a run recorded under one pruning score name.
public struct ScoreSummary: Sendable, Equatable {
    public var name: String
    /// How many steps hold this score, and the latest of them.
    public var stepCount: Int
    public var latestStep: Int
    /// Samples scored at the latest step, and the range of their scores.
    public var sampleCount: Int
    public var minimum: Double
    public var maximum: Double
}

extension ResultStore {
    /// One summary per score name of the run, by name (empty when it recorded none).
    public func scoreSummaries(run runID: Int64) throws -> [ScoreSummary] {
        try requireRun(runID)
        let statement = try connection.prepare(
            """
            WITH latest AS (
                SELECT name, count(DISTINCT step) AS steps, max(step) AS step FROM pruning_scores WHERE run_id = ?1 GROUP BY name
            )
            SELECT l.name, l.steps, l.step, count(*), min(p.score), max(p.score) FROM latest l
            JOIN pruning_scores p ON p.run_id = ?1 AND p.name = l.name AND p.step = l.step
            GROUP BY l.name ORDER BY l.name
            """)
        statement.bind(1, runID)
        return try statement.all {
            ScoreSummary(
                name: $0.text(0) ?? "", stepCount: $0.int(1), latestStep: $0.int(2), sampleCount: $0.int(3),
                minimum: $0.double(4), maximum: $0.double(5))
        }
    }
}
