import Foundation
import MetaLearning
import Recipes
import ResultStore
import Runtime

/// `application: data-pruning` (docs/data-pruning.md): scores every training image by how much it is worth
/// keeping, with a meta-learned Meta-Weight-Net on [loss, uncertainty against a moving average of the model]
/// and with the classical heuristics, then retrains fresh models on the top fraction by each score.
///
/// Stages (`stage:`): `score`, `baselines`, `retrain` (on the scores of `retrain.score_runs`) or `sweep` (all
/// three in one run, with a table and a plot next to the database). Every stage resumes after a crash from
/// the last finished epoch or unit of work (`winnow run --resume N`).
public struct DataPruningApplication: WinnowApplication {
    public static let name = "data-pruning"
    public static let summary = "Score training images (meta-learned and classical), prune, and retrain to compare the scores."
    /// The meta score's relative accuracy at half pruned, else the full-data accuracy of a retraining run.
    public static let headlineMetrics = ["relative_accuracy.sama.prune-0.50", "full_test_accuracy", "meta_steps"]

    public struct Config: RecipeConfig, Equatable {
        public var stage = PruningRecipe.Stage.sweep
        public var dataset = PruningRecipe.DatasetSettings()
        public var model = PruningRecipe.ModelSettings()
        public var training = PruningRecipe.TrainingSettings()
        public var meta = MetaSection(Self.paperMeta, PruningRecipe.ScoringSettings())
        public var baselines = PruningRecipe.BaselineSettings()
        public var retrain = PruningRecipe.RetrainSettings()
        public init() {}

        /// The paper's meta settings: SAMA, unroll 2, (1/N) Σ w·ℓ.
        static var paperMeta: MetaSettings {
            var settings = MetaSettings()
            settings.unroll = 2
            settings.normalization = .mean
            settings.batchSize = 128
            return settings
        }

        public func validate() throws {
            try dataset.validate()
            try model.validate()
            try training.validate()
            if stage == .score || stage == .sweep {
                try meta.settings.validate()
                if meta.method == .finetune {
                    throw InvalidSetting("meta.method", "the score stage meta-learns weights: finetune learns none")
                }
                try SettingRange.check(meta.averageDecay, in: 0...0.999_999, "meta.average_decay")
                try SettingRange.check(meta.hiddenWidth, in: 1...4_096, "meta.hidden_width")
                try SettingRange.check(meta.epochs, in: 0...100_000, "meta.epochs")
                try SettingRange.check(meta.lastEpochs, in: 1...scoringEpochs, "meta.last_epochs")
            }
            if stage == .baselines || stage == .sweep { try baselines.validate() }
            if stage == .retrain || stage == .sweep { try retrain.validate(stage: stage) }
        }

        /// Meta-training epochs of the score stage.
        var scoringEpochs: Int { meta.epochs > 0 ? meta.epochs : training.epochs }

        /// The name the meta-learned score is recorded under: the method's (`sama`, `darts`, ...).
        var metaScoreName: String { meta.method.rawValue }
    }

    public static func run(_ config: Config, context: RunContext) throws -> RunSummary {
        try PruningRun(config: config, context: context).run()
    }
}

extension PruningRecipe.DatasetSettings {
    func validate() throws {
        guard !archive.isEmpty else { throw InvalidSetting("dataset.archive", "names no dataset") }
        try SettingRange.check(classes, in: 0...100_000, "dataset.classes")
        if classes == 1 { throw InvalidSetting("dataset.classes", "a classifier needs at least 2 classes (0: the dataset's)") }
        try SettingRange.check(trainSamples, in: 0...100_000_000, "dataset.train_samples")
        try SettingRange.check(testSamples, in: 0...100_000_000, "dataset.test_samples")
    }
}
