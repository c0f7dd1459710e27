import Foundation
import Runtime

/// The baselines stage: computes the classical scores and records each per sample under its name
/// (`PruningScore`), at the unit's step.
struct BaselineStage {
    let config: DataPruningApplication.Config
    let context: RunContext
    let data: ImageData

    private var wanted: Set<PruningScore> { Set(config.baselines.parsedScores) }

    func run(_ kind: PruningPlan.BaselineKind, step: Int) throws {
        let train = data.train
        var scores: [PruningScore: [Double]] = [:]
        switch kind {
        case .random:
            scores[.random] = RandomScore.classBalanced(labels: train.labels, seed: context.seed)
        case .earlyTraining:
            let b = config.baselines
            context.progress.log(
                "baselines: EL2N\(wanted.contains(.grand) ? " and GraNd" : "") after \(b.earlyEpoch) epoch(s), seeds \(b.earlySeeds)")
            let early = EarlyTrainingScores(training: config.training.plain(seed: 0), scoringEpoch: b.earlyEpoch, seeds: b.earlySeeds)
            let (el2n, grand) = try early.scores(
                on: train, gradientNorms: wanted.contains(.grand),
                makeModel: { config.model.make(imageShape: train.imageShape, classes: data.classCount, seed: $0) },
                onSeed: { context.progress.log("baselines: early-training seed \($0) done") })
            scores[.el2n] = el2n
            scores[.grand] = grand
        case .trainingRun:
            context.progress.log("baselines: forgetting, AUM, margin and least confidence from a \(config.training.epochs)-epoch run")
            let model = config.model.make(imageShape: train.imageShape, classes: data.classCount, seed: context.seed)
            let trainer = try PlainTrainer(model: model, settings: config.training.plain(seed: context.seed))
            let computed = try TrainingRunScores.compute(trainer, on: train) { report in
                context.progress.log(
                    String(
                        format: "baselines: epoch %d, loss %.4f, train accuracy %.4f", report.epoch + 1, report.meanLoss,
                        report.trainAccuracy))
            }
            scores = computed
        }
        let recorded = scores.filter { wanted.contains($0.key) }.sorted { $0.key.rawValue < $1.key.rawValue }
        try context.recorder.batch {
            for (score, values) in recorded { try context.recorder.recordScores(values, name: score.rawValue, step: step) }
        }
        context.progress.log("baselines: recorded \(recorded.map(\.key.rawValue).joined(separator: ", ")) at step \(step)")
    }
}
