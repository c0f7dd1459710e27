import Foundation
import MetaLearning
import Recipes
import Runtime

/// `application: continued-pretraining` (docs/continued-pretraining.md, docs/ALGORITHMS.md §7): fine-tunes a
/// BERT-layout encoder on a text classification task while it goes on learning masked-language modelling on an
/// auxiliary corpus, with the MLM tokens weighted by a meta-learned Meta-Weight-Net (`sama`), all at 1
/// (`tartan-mt`), not at all (`finetune`), or with MLM first and the task after (`dapt`).
///
/// Per epoch it records task train loss, valid and test accuracy and macro-F1, the MLM loss and the meta loss,
/// and for `sama` and `tartan-mt` the mean token weight each corpus document got in that epoch (registered as
/// split `corpus`, so `winnow weights` and `winnow export manifest --by weight` work on documents).
public struct ContinuedPretrainingApplication: WinnowApplication {
    public static let name = "continued-pretraining"
    public static let summary =
        "Fine-tune a text classifier with an auxiliary MLM loss on a corpus, its tokens reweighted by a meta-learned net."
    /// Test accuracy (of the epoch with the best valid accuracy), then the last epoch's.
    public static let headlineMetrics = ["test_accuracy", "last_test_accuracy"]

    /// How the auxiliary corpus takes part.
    public enum Method: String, RecipeChoice {
        /// The task alone, no MLM.
        case finetune
        /// Task + MLM with every token weight 1 (TARTAN-MT).
        case tartanMT = "tartan-mt"
        /// MLM on the corpus for `training.dapt_epochs` first, then the task alone.
        case dapt
        /// Task + MLM with meta-learned token weights (`meta.method`: sama or any meta-learning engine method).
        case sama
    }

    /// The encoder under the task head and the MLM head.
    public enum Encoder: String, RecipeChoice {
        /// all-MiniLM-L6-v2 with its pretrained weights (`bash scripts/install-minilm.sh`).
        case minilm
        /// A small randomly initialised BERT (2 layers, width 64) over the same WordPiece vocabulary: tests and
        /// quick runs.
        case tiny
    }

    /// The recipe's `dataset:` section.
    public struct DatasetSettings: Codable, Sendable, Equatable {
        /// The task: any WRENCH, JSONL or CSV archive `Dataset.load` reads, with gold labels.
        public var archive = "Datasets/rt-sentiment-weak.tar.gz"
        public var trainSplit = "train"
        /// Model selection (the epoch with the best valid accuracy is reported).
        public var validSplit = "valid"
        /// The report.
        public var testSplit = "test"
        /// A seeded random subset of the train split of this size (0: all of it).
        public var trainSubset = 1000
        /// The first N samples of the valid (test) split (0: all of it). For quick runs and tests.
        public var validSubset = 0
        public var testSubset = 0
        /// The auxiliary MLM text: an archive whose records' texts are one document each (every split), or
        /// `task` for the task's own train texts (the subset).
        public var corpus = "Datasets/rt-movie-corpus.tar.gz"
        /// Use only the first N corpus documents (0: all).
        public var maxDocuments = 0
        public init() {}
    }

    /// The recipe's `model:` section.
    public struct ModelSettings: Codable, Sendable, Equatable {
        public var encoder = Encoder.minilm
        /// WordPiece ids per text and per document (`[CLS]` and `[SEP]` included); longer ones are cut.
        public var maxLength = 128
        /// Replaces the checkpoint's dropout.
        public var dropout: Float = 0.1
        public init() {}
    }

    /// The recipe's `training:` section: AdamW with a linear schedule, as in the paper.
    public struct TrainingSettings: Codable, Sendable, Equatable {
        public var epochs = 3
        /// Task texts per base step; the auxiliary MLM batch has `auxiliary_batch_size` documents.
        public var batchSize = 16
        public var auxiliaryBatchSize = 16
        public var learningRate: Float = 2e-5
        public var beta1: Float = 0.9
        public var beta2: Float = 0.98
        public var epsilon: Float = 1e-6
        /// Decoupled (AdamW) weight decay.
        public var weightDecay: Float = 0.01
        /// The linear schedule's warm-up share of all base steps.
        public var warmupFraction = 0.06
        /// Global gradient-norm clipping of the base step; 0 turns it off.
        public var clipNorm: Float = 1
        /// Steps training the new MLM head alone (encoder frozen, Adam at `head_learning_rate`) before the main
        /// stage; the MLM loss it reaches is recorded at step 0.
        public var headWarmupSteps = 100
        public var headLearningRate: Float = 1e-3
        /// a, the factor on the auxiliary MLM term.
        public var auxiliaryWeight: Float = 1
        /// `dapt`: epochs of MLM on the corpus (encoder and head) before the task.
        public var daptEpochs = 1
        public init() {}
    }

    /// The application's keys beside the shared ones in `meta:`.
    public struct MetaNetSettings: Codable, Sendable, Equatable {
        /// Hidden width of the token-weight net 1 → hidden → 1.
        public var hiddenWidth = 100
        public init() {}
    }

    /// A run's settings (docs/continued-pretraining.md lists every key).
    public struct Config: RecipeConfig, Equatable {
        public var method = Method.sama
        public var dataset = DatasetSettings()
        public var model = ModelSettings()
        public var training = TrainingSettings()
        public var meta = MetaSection(Self.paperMeta, MetaNetSettings())
        public init() {}

        /// The paper's meta settings: SAMA with α 0.3, unroll 10, meta Adam 1e-5, meta batch 16.
        public static var paperMeta: MetaSettings {
            var settings = MetaSettings()
            settings.alpha = 0.3
            settings.unroll = 10
            settings.learningRate = 1e-5
            settings.batchSize = 16
            return settings
        }

        /// Every numeric key checked against its range; errors name the key.
        public func validate() throws {
            let t = training
            try SettingRange.checkTraining(
                epochs: t.epochs, batchSize: t.batchSize, learningRate: t.learningRate, weightDecay: t.weightDecay)
            try SettingRange.check(t.auxiliaryBatchSize, in: 1...1_000_000, "training.auxiliary_batch_size")
            try SettingRange.check(t.beta1, in: 0...0.999_999, "training.beta1")
            try SettingRange.check(t.beta2, in: 0...0.999_999, "training.beta2")
            try SettingRange.check(t.epsilon, in: 1e-12...1, "training.epsilon")
            try SettingRange.check(t.warmupFraction, in: 0...0.999_999, "training.warmup_fraction")
            try SettingRange.check(t.clipNorm, in: 0...1e6, "training.clip_norm")
            try SettingRange.check(t.headWarmupSteps, in: 0...10_000_000, "training.head_warmup_steps")
            try SettingRange.check(t.headLearningRate, in: 1e-12...10, "training.head_learning_rate")
            try SettingRange.check(t.auxiliaryWeight, in: 0...1e4, "training.auxiliary_weight")
            try SettingRange.check(t.daptEpochs, in: 0...100_000, "training.dapt_epochs")
            try SettingRange.check(model.maxLength, in: 3...512, "model.max_length")
            try SettingRange.check(model.dropout, in: 0...0.999_999, "model.dropout")
            try SettingRange.check(dataset.trainSubset, in: 0...100_000_000, "dataset.train_subset")
            try SettingRange.check(dataset.validSubset, in: 0...100_000_000, "dataset.valid_subset")
            try SettingRange.check(dataset.testSubset, in: 0...100_000_000, "dataset.test_subset")
            try SettingRange.check(dataset.maxDocuments, in: 0...100_000_000, "dataset.max_documents")
            guard !dataset.archive.isEmpty else { throw InvalidSetting("dataset.archive", "names no dataset") }
            guard !dataset.corpus.isEmpty else {
                throw InvalidSetting("dataset.corpus", "names no corpus (an archive, or `task` for the task's train texts)")
            }
            try meta.settings.validate()
            try SettingRange.check(meta.hiddenWidth, in: 1...4_096, "meta.hidden_width")
            if method == .sama, meta.method == .finetune {
                throw InvalidSetting("meta.method", "method sama meta-learns the token weights: finetune learns none")
            }
            if method == .dapt, t.daptEpochs == 0 {
                throw InvalidSetting("training.dapt_epochs", "method dapt needs at least 1 epoch of MLM first, got 0")
            }
        }

        /// The shared meta settings as the engine runs them: `finetune` (no meta step) unless `method` is sama.
        var effectiveMeta: MetaSettings {
            var settings = meta.settings
            if method != .sama { settings.method = .finetune }
            return settings
        }

        /// Whether the main stage trains the auxiliary MLM term.
        var trainsMLM: Bool { (method == .sama || method == .tartanMT) && training.auxiliaryWeight > 0 }
    }

    /// The corpus documents (split `corpus`) are records of `dataset.corpus`, keyed `<split>/<id>` when it has
    /// several splits; with `corpus: task` they are the task's train records.
    public static func sampleSource(split: String, recipe: RecipeNode) -> SampleSource? {
        guard split == "corpus" else { return nil }
        let dataset = recipe["dataset"]
        if dataset?["corpus"]?.scalar == "task" {
            return SampleSource(archiveKey: "dataset.archive", splits: [dataset?["train_split"]?.scalar ?? "train"])
        }
        return SampleSource(archiveKey: "dataset.corpus", keysNameSplits: true)
    }

    public static func run(_ config: Config, context: RunContext) throws -> RunSummary {
        try ContinuedPretrainingRun(config: config, context: context).run()
    }
}
