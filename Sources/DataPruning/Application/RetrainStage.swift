import Foundation
import Runtime

/// One finished retraining: a fresh model trained on the samples a score kept (all of them for the full-data
/// reference, `score` nil and `ratio` 0), and its test accuracy.
struct RetrainResult: Codable, Sendable, Equatable {
    var score: String?
    var ratio: Double
    var seed: UInt64
    var kept: Int
    var testAccuracy: Double
    var seconds: Double

    /// The unit's metrics as recorded at its step: `test_accuracy.<score>.prune-<ratio>.seed-<seed>`.
    var metrics: [String: Double] {
        let label = score.map { "\($0).prune-\(String(format: "%.2f", ratio))" } ?? "full"
        return ["test_accuracy.\(label).seed-\(seed)": testAccuracy, "kept.\(label).seed-\(seed)": Double(kept)]
    }
}

/// The retrain stage: keeps `1 − ratio` of the training split by a score (the highest scores, by default;
/// `KeptSelection`) and trains a fresh model from scratch on it, with the run's epochs and schedule and no meta
/// learning.
struct RetrainStage {
    let config: DataPruningApplication.Config
    let context: RunContext
    let data: ImageData
    let sources: ScoreSources
    private var cache: [String: [Double]] = [:]

    init(config: DataPruningApplication.Config, context: RunContext, data: ImageData, sources: ScoreSources) throws {
        self.config = config
        self.context = context
        self.data = data
        self.sources = sources
    }

    mutating func run(_ job: PruningPlan.RetrainJob) throws -> RetrainResult {
        var subset: [Int]?
        if let score = job.score {
            if cache[score] == nil { cache[score] = try sources.values(score, for: data.train) }
            let r = config.retrain
            subset = KeptSelection.kept(
                scores: cache[score]!, ratio: job.ratio, labels: data.train.labels, selection: r.selection, strata: r.strata,
                hardCutoff: r.hardCutoff, seed: context.seed)
        }
        let start = Date()
        let model = config.model.make(imageShape: data.train.imageShape, classes: data.classCount, seed: job.seed)
        let trainer = try PlainTrainer(model: model, settings: config.training.plain(seed: job.seed))
        try trainer.train(on: data.train, subset: subset)
        let accuracy = Evaluation.accuracy(model, on: data.test)
        let result = RetrainResult(
            score: job.score, ratio: job.ratio, seed: job.seed, kept: subset?.count ?? data.train.count, testAccuracy: accuracy,
            seconds: Date().timeIntervalSince(start))
        context.progress.log(
            String(
                format: "retrain %@ seed %llu: %d samples kept, test accuracy %.4f (%.0f s)",
                job.score.map { "\($0) pruned \(String(format: "%.0f%%", job.ratio * 100))" } ?? "full data", job.seed,
                result.kept, accuracy, result.seconds))
        return result
    }
}
