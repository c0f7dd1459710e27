import Foundation

/// The units of work of a data-pruning run, each at its own step (after the score stage's epochs), in the
/// order they run. The same config always gives the same plan, so a resumed run knows what is done.
struct PruningPlan {
    /// A group of classical scores computed together.
    enum BaselineKind: String, Codable, Sendable {
        /// Class-balanced random.
        case random
        /// EL2N and GraNd of models trained `baselines.early_epoch` epochs, averaged over `baselines.early_seeds`.
        case earlyTraining
        /// Forgetting events and AUM over one whole training run; margin and least confidence of its final model.
        case trainingRun
    }

    /// One retraining: a fresh model on the kept samples (all of them when `score` is nil).
    struct RetrainJob: Sendable, Equatable {
        var score: String?
        var ratio: Double
        var seed: UInt64
    }

    enum Work: Sendable, Equatable {
        case baseline(BaselineKind)
        case retrain(RetrainJob)
    }

    struct Unit: Sendable, Equatable {
        var step: Int
        var work: Work
    }

    /// Epochs of the score stage (0 when the run does not score).
    let scoringEpochs: Int
    let units: [Unit]
    /// Whether the run scores (meta or classical) and whether it retrains.
    let scores: Bool
    let retrains: Bool

    /// `retrainScores`: the score names to prune by, in order (`ScoreSources.names`).
    init(config: DataPruningApplication.Config, retrainScores: [String]) {
        let stage = config.stage
        scoringEpochs = stage == .score || stage == .sweep ? config.scoringEpochs : 0
        var work: [Work] = []
        if stage == .baselines || stage == .sweep {
            let wanted = Set(config.baselines.parsedScores)
            if wanted.contains(.random) { work.append(.baseline(.random)) }
            if !wanted.isDisjoint(with: [.el2n, .grand]) { work.append(.baseline(.earlyTraining)) }
            if !wanted.isDisjoint(with: [.forgetting, .aum, .margin, .leastConfidence]) { work.append(.baseline(.trainingRun)) }
        }
        retrains = stage == .retrain || stage == .sweep
        if retrains {
            // Seed by seed, so an interrupted sweep already has every score at its first seeds.
            for seed in config.retrain.seeds {
                work.append(.retrain(RetrainJob(score: nil, ratio: 0, seed: seed)))
                for score in retrainScores {
                    for ratio in config.retrain.ratios { work.append(.retrain(RetrainJob(score: score, ratio: ratio, seed: seed))) }
                }
            }
        }
        scores = stage != .retrain
        let first = scoringEpochs + 1
        units = work.enumerated().map { Unit(step: first + $0.offset, work: $0.element) }
    }
}
