import Foundation
import NeuralNetworks
import Recipes
import Runtime
import Tensors

/// The recipe sections of `application: data-pruning` besides `meta:` (docs/RECIPES.md lists every key).
public enum PruningRecipe {
    /// Which stages a run performs.
    public enum Stage: String, RecipeChoice {
        /// Meta-learn the Meta-Weight-Net score (`sama`, or the method's name) on the training split.
        case score
        /// The classical scores (random, EL2N, GraNd, forgetting, margin, least confidence, AUM).
        case baselines
        /// Retrain from scratch on the top fraction by each score of `retrain.score_runs`, per ratio and seed.
        case retrain
        /// score, then baselines, then retrain on this run's own scores, with the table and the plot.
        case sweep
    }

    public enum ModelKind: String, RecipeChoice {
        case mlp, smallCNN = "small_cnn", resnet
    }

    public enum OptimizerKind: String, RecipeChoice { case sgd, adam }
    public enum ScheduleKind: String, RecipeChoice { case cosine, constant, step }

    public struct DatasetSettings: Codable, Sendable, Equatable {
        /// An IDX, JSONL or CSV image dataset: a folder, a file or an archive with a train and a test split.
        public var archive = "/usr/share/datasets/fashion-mnist"
        public var trainSplit = "train"
        public var testSplit = "test"
        /// The number of classes; a label outside 0…classes−1 is an error naming the file. 0 takes the dataset's
        /// (its `label.json`, or the largest label + 1).
        public var classes = 0
        /// Use only the first N training (test) samples; 0 uses all. For quick runs and tests.
        public var trainSamples = 0
        public var testSamples = 0
        public init() {}
    }

    public struct ModelSettings: Codable, Sendable, Equatable {
        public var kind = ModelKind.smallCNN
        /// MLP hidden widths (default 256, 256); SmallCNN's two channel counts (16, 32); ResNet's stage widths
        /// (16, 32, 64). Empty takes the default.
        public var widths: [Int] = []
        /// ResNet basic blocks per stage.
        public var blocksPerStage = 1

        public init() {}

        public var resolvedWidths: [Int] {
            if !widths.isEmpty { return widths }
            switch kind {
            case .mlp: return [256, 256]
            case .smallCNN: return [16, 32]
            case .resnet: return [16, 32, 64]
            }
        }

        /// A fresh model for `[C, H, W]` images and `classes` classes, initialised from `seed`.
        public func make(imageShape: [Int], classes: Int, seed: UInt64) -> any ImageClassifier {
            var rng = RandomGenerator(seed: seed)
            let w = resolvedWidths
            switch kind {
            case .mlp:
                return MLP(widths: [imageShape.reduce(1, *)] + w + [classes], rng: &rng)
            case .smallCNN:
                return SmallCNN(
                    inChannels: imageShape[0], imageSize: imageShape[1], channels: (w[0], w[w.count > 1 ? 1 : 0]),
                    classes: classes, rng: &rng)
            case .resnet:
                return ResNet(inChannels: imageShape[0], widths: w, blocksPerStage: blocksPerStage, classes: classes, rng: &rng)
            }
        }

        func validate() throws {
            for (i, width) in widths.enumerated() { try SettingRange.check(width, in: 1...4_096, "model.widths[\(i)]") }
            try SettingRange.check(blocksPerStage, in: 1...8, "model.blocks_per_stage")
            if kind == .smallCNN, widths.count > 2 {
                throw InvalidSetting("model.widths", "small_cnn takes one or two channel counts, got \(widths.count)")
            }
            if kind == .mlp {
                // Largest layer of an MLP on 3×32×32 inputs: a rough bound before any data is read.
                let parameters = zip([3_072] + resolvedWidths, resolvedWidths).reduce(0) { $0 + $1.0 * $1.1 }
                try ModelMemory.check(parameters: parameters, key: "model.widths")
            }
        }
    }

    public struct TrainingSettings: Codable, Sendable, Equatable {
        /// Epochs of every training run: meta scoring, the baselines' full runs and every retraining.
        public var epochs = 15
        public var batchSize = 128
        public var optimizer = OptimizerKind.sgd
        public var learningRate: Float = 0.05
        /// SGD only.
        public var momentum: Float = 0.9
        public var nesterov = true
        /// L2 weight decay (SGD, Adam); decoupled for Adam when `decoupled_weight_decay`.
        public var weightDecay: Float = 5e-4
        public var decoupledWeightDecay = false
        /// cosine (to 0, after `warmup_epochs`), constant, or step (× `gamma` at each of `milestones`, in epochs).
        public var schedule = ScheduleKind.cosine
        public var warmupEpochs = 0
        public var milestones: [Int] = []
        public var gamma: Float = 0.1
        /// Random shifts of up to this many pixels on training batches of plain runs (0: none).
        public var augmentShift = 0
        public init() {}

        /// The plain trainer's settings for a run seeded with `seed`.
        public func plain(seed: UInt64) -> PlainTrainingSettings {
            let optimizerChoice: PlainTrainingSettings.OptimizerChoice =
                switch optimizer {
                case .sgd:
                    .sgd(learningRate: learningRate, momentum: momentum, nesterov: nesterov && momentum > 0, weightDecay: weightDecay)
                case .adam: .adam(learningRate: learningRate, weightDecay: weightDecay, decoupled: decoupledWeightDecay)
                }
            let scheduleChoice: PlainTrainingSettings.ScheduleChoice =
                switch schedule {
                case .cosine: .cosine(warmupEpochs: warmupEpochs)
                case .constant: .constant
                case .step: .step(milestoneEpochs: milestones, gamma: gamma)
                }
            return PlainTrainingSettings(
                epochs: epochs, batchSize: batchSize, optimizer: optimizerChoice, schedule: scheduleChoice, seed: seed,
                augmentShift: augmentShift)
        }

        func validate() throws {
            try SettingRange.checkTraining(epochs: epochs, batchSize: batchSize, learningRate: learningRate, weightDecay: weightDecay)
            try SettingRange.check(momentum, in: 0...0.999, "training.momentum")
            try SettingRange.check(warmupEpochs, in: 0...(epochs - 1), "training.warmup_epochs")
            try SettingRange.check(gamma, in: 1e-6...1, "training.gamma")
            try SettingRange.check(augmentShift, in: 0...8, "training.augment_shift")
            for (i, m) in milestones.enumerated() { try SettingRange.check(m, in: 1...epochs, "training.milestones[\(i)]") }
            if schedule == .step, milestones.isEmpty {
                throw InvalidSetting("training.milestones", "the step schedule needs at least one milestone epoch")
            }
        }
    }

    /// The Meta-Weight-Net scorer's own keys, beside the shared `meta:` settings.
    public struct ScoringSettings: Codable, Sendable, Equatable {
        /// Decay of the model's exponential moving average per optimizer step (u is measured against it).
        public var averageDecay: Float = 0.95
        /// The score is the mean weight over the last K epochs.
        public var lastEpochs = 5
        /// Hidden width of the weight net (2 → hidden → 1).
        public var hiddenWidth = 100
        /// Meta-training epochs; 0 takes `training.epochs`.
        public var epochs = 0
        public init() {}
    }

    public struct BaselineSettings: Codable, Sendable, Equatable {
        /// The classical scores to compute (any of random, el2n, grand, forgetting, margin, least_confidence, aum).
        public var scores: [String] = PruningScore.allCases.map(\.rawValue)
        /// EL2N and GraNd: epochs trained before scoring (0: at initialisation) and the seeds averaged over.
        public var earlyEpoch = 2
        public var earlySeeds: [UInt64] = [0, 1, 2]
        public init() {}

        var parsedScores: [PruningScore] { scores.compactMap(PruningScore.init(rawValue:)) }
    }

    /// How a score picks the kept samples.
    public enum Selection: String, RecipeChoice {
        /// The highest scores over the whole split.
        case top
        /// The highest scores within each class, keeping the same fraction of every class (±1 sample).
        case classBalanced = "class_balanced"
        /// Coverage-centric: equal shares from `strata` score bins after dropping the hardest `hard_cutoff`.
        case stratified
    }

    public struct RetrainSettings: Codable, Sendable, Equatable {
        /// Fractions of the training split pruned (each in (0, 1)).
        public var ratios: [Double] = [0.1, 0.3, 0.5, 0.7, 0.9]
        /// Seeds of the fresh models (initialisation and batch order); each also trains once on the full split.
        public var seeds: [UInt64] = [0, 1, 2]
        /// Score names to prune by; empty takes every score the source runs recorded.
        public var scores: [String] = []
        /// The runs whose scores are used (stage `retrain`); the sweep uses its own.
        public var scoreRuns: [Int64] = []
        /// `top`, `class_balanced` or `stratified` (`KeptSelection`), the same for every score.
        public var selection = Selection.top
        /// `stratified`: the number of equal-width score bins, and the fraction with the highest scores dropped first.
        public var strata = 50
        public var hardCutoff = 0.0
        public init() {}
    }
}

/// Names the recipe key when a list value is out of range.
extension PruningRecipe.RetrainSettings {
    func validate(stage: PruningRecipe.Stage) throws {
        guard !ratios.isEmpty else { throw InvalidSetting("retrain.ratios", "needs at least one pruning ratio") }
        for (i, r) in ratios.enumerated() where !(r > 0 && r < 1) {
            throw InvalidSetting("retrain.ratios[\(i)]", "a pruning ratio must be in (0, 1), got \(r)")
        }
        guard Set(ratios).count == ratios.count else { throw InvalidSetting("retrain.ratios", "lists a ratio twice") }
        try SettingRange.check(strata, in: 1...100_000, "retrain.strata")
        try SettingRange.check(hardCutoff, in: 0...0.99, "retrain.hard_cutoff")
        guard !seeds.isEmpty, Set(seeds).count == seeds.count else {
            throw InvalidSetting("retrain.seeds", "needs one or more distinct seeds, got \(seeds)")
        }
        for (i, name) in scores.enumerated() where name.isEmpty {
            throw InvalidSetting("retrain.scores[\(i)]", "a score name cannot be empty")
        }
        if stage == .retrain, scoreRuns.isEmpty {
            throw InvalidSetting("retrain.score_runs", "stage retrain needs the runs whose scores it prunes by (e.g. [1, 2])")
        }
    }
}

extension PruningRecipe.BaselineSettings {
    func validate() throws {
        let known = PruningScore.allCases.map(\.rawValue)
        for (i, name) in scores.enumerated() where PruningScore(rawValue: name) == nil {
            throw InvalidSetting(
                "baselines.scores[\(i)]",
                "unknown score '\(name)' (scores: \(known.joined(separator: ", ")))"
                    + (EditDistance.closest(to: name, in: known).map { "; did you mean '\($0)'?" } ?? ""))
        }
        guard !scores.isEmpty else { throw InvalidSetting("baselines.scores", "names no score") }
        try SettingRange.check(earlyEpoch, in: 0...100_000, "baselines.early_epoch")
        let early = parsedScores.contains(.el2n) || parsedScores.contains(.grand)
        if early, earlySeeds.isEmpty || Set(earlySeeds).count != earlySeeds.count {
            throw InvalidSetting("baselines.early_seeds", "EL2N and GraNd need one or more distinct seeds, got \(earlySeeds)")
        }
    }
}
