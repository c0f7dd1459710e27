import DataIO
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Recipes
import ResultStore
import Runtime
import Tensors

/// `application: noisy-labels`: learns per-sample weights (Meta-Weight-Net) and corrected labels (MLC) for
/// weakly labeled text, guided by the clean `valid` split, with any hypergradient method (docs/ALGORITHMS.md §6).
/// Records per-epoch weights, corrected labels and metrics; reports test accuracy and how well the
/// decisions find wrong weak labels (measured with train gold labels, which training never reads).
public struct NoisyLabelsApplication: WinnowApplication {
    public static let name = "noisy-labels"
    public static let summary = "Reweight and correct weakly labeled text with a meta-learned guide from a small clean set."

    public enum TrainLabels: String, RecipeChoice { case weak, gold }
    public enum TieChoice: String, RecipeChoice { case uniformSoft = "uniform_soft", abstain, random }
    public enum WeakTargets: String, RecipeChoice { case majority, voteShare = "vote_share" }
    /// What the label-correction net reads beside the weak label.
    public enum LabelNetInput: String, RecipeChoice { case modelFeature = "model_feature", sentenceEmbedding = "sentence_embedding" }
    public enum ModelKind: String, RecipeChoice {
        case embeddingBag = "embedding_bag", transformer, sentenceEmbedding = "sentence_embedding",
            pretrainedTransformer = "pretrained_transformer"
    }

    public struct DatasetSettings: Codable, Sendable, Equatable {
        /// A WRENCH-layout archive or directory: `{train,valid,test}.json` + `label.json`.
        public var archive = "Datasets/rt-sentiment-weak.tar.gz"
        /// `weak`: majority vote of the weak labels (the real setting); `gold`: the train split's gold
        /// labels (a reference ceiling only: real users do not have them).
        public var trainLabels = TrainLabels.weak
        /// Majority-vote ties and all-abstain samples: uniform soft label, drop, or a seeded random pick.
        public var tiePolicy = TieChoice.uniformSoft
        /// Training targets from the weak labels: `majority`, the majority vote (one-hot; ties by the tie
        /// policy), or `vote_share`, each class's share of the non-abstaining votes (a 3–1 vote gives
        /// 0.75 / 0.25; all-abstain samples follow the tie policy). The decisive majority label stays the
        /// "weak label" that reports and label correction compare against.
        public var weakTargets = WeakTargets.majority
        /// A control: also train on the clean meta split with its gold labels (keys `<split>/<id>`), to see
        /// how much of a method's gain the clean samples alone would give.
        public var trainOnMetaSplit = false
        /// How much each clean sample counts when they train (`train_on_meta_split`, `training.clean_epochs`):
        /// a number, or `balanced` (N_weak / N_clean: both sets carry the same total weight).
        public var metaSplitWeight = MetaSplitWeight.fixed(1)
        public var trainSplit = "train"
        /// The small clean set that guides the meta problem.
        public var metaSplit = "valid"
        /// Evaluation only.
        public var testSplit = "test"
        public init() {}
    }

    public struct ModelSettings: Codable, Sendable, Equatable {
        public var kind = ModelKind.embeddingBag
        /// Embedding bag: hashed word n-grams (n = 1...ngrams) into `buckets` embeddings.
        public var buckets = 1 << 16
        public var ngrams = 2
        public var embeddingWidth = 64
        /// Width of the penultimate layer (embedding bag, sentence embedding).
        public var hiddenWidth = 128
        public var dropout: Float = 0.1
        /// Transformer: a BERT-layout encoder over a word vocabulary built from the training texts.
        public var layers = 2
        public var heads = 4
        public var width = 128
        public var intermediate = 256
        /// Transformer and sentence embedding: tokens per text (longer texts are cut).
        public var maxLength = 48
        public var vocabularySize = 8_000
        /// Sentence embedding: `last`, the sentence-transformers embedding (the last layer's mean, 384 wide), or `all`,
        /// the mean after the embeddings and after each of the 6 layers, concatenated (2,688 wide).
        public var embeddingLayers = SentenceEmbedder.Layers.last
        // Sentence embedding: frozen all-MiniLM-L6-v2 sentence embeddings (384 wide, computed once per dataset
        // and cached next to the database) → dropout → hidden ReLU layer (`hidden_width`) → logits.
        // Pretrained transformer: the all-MiniLM-L6-v2 encoder and its WordPiece vocabulary, fine-tuned whole,
        // masked mean pooling → dropout → linear head; `dropout` replaces the checkpoint's dropout.
        public init() {}
    }

    public struct TrainingSettings: Codable, Sendable, Equatable {
        public var epochs = 8
        public var batchSize = 32
        /// Adam (AdamW when weight_decay > 0), cosine schedule with linear warm-up.
        public var learningRate: Float = 1e-3
        public var weightDecay: Float = 0
        public var warmupFraction = 0.06
        /// Global gradient-norm clipping; 0 turns it off.
        public var clipNorm: Float = 0
        /// Under mpirun: reduce the embedding tables by the rows the batches touch, after backward, instead
        /// of whole and overlapped with it (`Engine.Configuration.sparseRowReduction`). Fewer bytes (half on
        /// the transformer); worth it where the network, not the CPU, is the bottleneck.
        public var sparseEmbeddingReduction = false
        /// The last `clean_epochs` of `epochs` train on the clean meta split alone (its gold labels, weighted by
        /// `dataset.meta_split_weight`), each as many steps as a weak epoch: fine-tune on weak, then on clean.
        public var cleanEpochs = 0
        public init() {}
    }

    /// The meta nets this application learns, beside the shared `MetaSettings` in the recipe's `meta:`.
    public struct MetaNetSettings: Codable, Sendable, Equatable {
        /// Learn per-sample weights w = MWN(ℓ).
        public var reweight = true
        /// Learn corrected labels ŷ = MLC(h, ỹ).
        public var correct = false
        /// MLC's learned gate towards the weak label.
        public var gate = true
        /// What MLC reads beside the weak label: `model_feature`, the base model's penultimate feature, or
        /// `sentence_embedding`, the frozen all-MiniLM-L6-v2 embedding of the text (a feature the base model need not
        /// have; computed once and cached like the sentence-embedding model's).
        public var labelNetInput = LabelNetInput.modelFeature
        /// 0: MLC starts from its random initialisation. N > 0: before training, MLC is fitted directly to the clean
        /// meta split (its weak votes and features to its gold labels) for 1 … N epochs, the count chosen by 5-fold
        /// cross-validation; meta learning then refines it, or, with `meta.method: finetune`, it stays as fitted and
        /// only relabels the training samples.
        public var labelNetFitEpochs = 0
        public init() {}
    }

    public struct Config: RecipeConfig, Equatable {
        public var dataset = DatasetSettings()
        public var model = ModelSettings()
        public var training = TrainingSettings()
        public var meta = MetaSection(MetaSettings(), MetaNetSettings())
        public init() {}

        /// Every numeric key has a range (docs/RECIPES.md); the model must also fit in memory.
        public func validate() throws {
            try SettingRange.checkTraining(
                epochs: training.epochs, batchSize: training.batchSize,
                learningRate: training.learningRate, weightDecay: training.weightDecay)
            try meta.settings.validate()
            try SettingRange.check(model.buckets, in: 1...(1 << 26), "model.buckets")
            try SettingRange.check(model.ngrams, in: 1...8, "model.ngrams")
            try SettingRange.check(model.embeddingWidth, in: 1...16_384, "model.embedding_width")
            try SettingRange.check(model.hiddenWidth, in: 1...16_384, "model.hidden_width")
            try SettingRange.check(model.layers, in: 1...48, "model.layers")
            try SettingRange.check(model.width, in: 1...4_096, "model.width")
            try SettingRange.check(model.intermediate, in: 1...16_384, "model.intermediate")
            try SettingRange.check(model.vocabularySize, in: 1...1_000_000, "model.vocabulary_size")
            try SettingRange.check(model.maxLength, in: 2...4_096, "model.max_length")
            try ModelMemory.check(parameters: model.estimatedParameterCount, key: "model")
            guard model.heads >= 1, model.width % model.heads == 0 else {
                throw InvalidSetting("model.heads", "must divide model.width (\(model.width)), got \(model.heads)")
            }
            if model.embeddingLayers != .last, model.kind != .sentenceEmbedding {
                throw InvalidSetting("model.embedding_layers", "applies to model.kind sentence_embedding, not \(model.kind.rawValue)")
            }
            guard model.dropout >= 0, model.dropout < 1 else {
                throw InvalidSetting("model.dropout", "must be in [0, 1), got \(model.dropout)")
            }
            guard training.warmupFraction >= 0, training.warmupFraction < 1 else {
                throw InvalidSetting("training.warmup_fraction", "must be in [0, 1), got \(training.warmupFraction)")
            }
            guard training.clipNorm.isFinite, training.clipNorm >= 0 else {
                throw InvalidSetting("training.clip_norm", "must be ≥ 0 (0 turns clipping off), got \(training.clipNorm)")
            }
            try SettingRange.check(training.cleanEpochs, in: 0...(training.epochs - 1), "training.clean_epochs")
            try SettingRange.check(meta.labelNetFitEpochs, in: 0...1_000, "meta.label_net_fit_epochs")
            if meta.labelNetFitEpochs > 0, meta.labelNetInput != .sentenceEmbedding {
                throw InvalidSetting(
                    "meta.label_net_fit_epochs",
                    "needs meta.label_net_input: sentence_embedding (the model's own feature changes as it trains, so a fit "
                        + "before training would not hold)")
            }
            if !meta.correct, meta.labelNetFitEpochs > 0 || meta.labelNetInput != .modelFeature {
                throw InvalidSetting(
                    meta.labelNetFitEpochs > 0 ? "meta.label_net_fit_epochs" : "meta.label_net_input",
                    "applies to the label-correction net: set meta.correct to true")
            }
            if meta.method != .finetune, !meta.reweight, !meta.correct {
                throw InvalidSetting(
                    "meta.method", "'\(meta.method.rawValue)' needs something to learn: set meta.reweight or meta.correct to true")
            }
        }

        /// The engine's settings for a run seeded with `seed`.
        func engineConfiguration(seed: UInt64) -> Engine<NoisyLabelProgram>.Configuration {
            var c = meta.settings.engineConfiguration(
                seed: seed &+ 13, clipNorm: training.clipNorm > 0 ? training.clipNorm : nil,
                for: NoisyLabelProgram.self)
            c.sparseRowReduction = training.sparseEmbeddingReduction
            return c
        }

        /// Meta nets are built only when meta learning runs.
        var learnsWeights: Bool { meta.method != .finetune && meta.reweight }
        /// A label net is built when meta learning runs, or when it is fitted to the clean split (then `finetune`
        /// keeps it fixed).
        var correctsLabels: Bool { meta.correct && (meta.method != .finetune || meta.labelNetFitEpochs > 0) }
        /// Whether the clean meta split's samples join the training rows.
        var trainsOnCleanSamples: Bool { dataset.trainOnMetaSplit || training.cleanEpochs > 0 }
    }

    public static func run(_ config: Config, context: RunContext) throws -> RunSummary {
        try NoisyLabelRun(config: config, context: context).run()
    }
}

extension NoisyLabelsApplication.ModelSettings {
    /// An upper estimate of the trainable parameters these settings ask for, before any data is read (the
    /// pretrained encoder's size is fixed by its checkpoint and not counted).
    var estimatedParameterCount: Int {
        switch kind {
        case .embeddingBag: return buckets * embeddingWidth + embeddingWidth * hiddenWidth + hiddenWidth * 64
        case .transformer:
            let perLayer = 4 * width * width + 2 * width * intermediate
            return vocabularySize * width + maxLength * width + layers * perLayer
        case .sentenceEmbedding: return hiddenWidth * max(512, SentenceEmbedder.dimension(embeddingLayers, of: .miniLM))
        case .pretrainedTransformer: return hiddenWidth * 512
        }
    }

    /// The classifier these settings describe, over a tokenizer's vocabulary (for the sentence embedding,
    /// the tokenizer is the feature table built by `NoisyLabelData.load`).
    package func makeClassifier(tokenizer: any TextTokenizer, classes: Int, rng: inout RandomGenerator) throws -> any TextClassifier {
        switch kind {
        case .embeddingBag:
            return EmbeddingBagClassifier(
                vocabularySize: tokenizer.vocabularySize, embeddingWidth: embeddingWidth,
                hiddenWidth: hiddenWidth, classes: classes, dropout: dropout, rng: &rng)
        case .transformer:
            let c = BertConfiguration(
                layers: layers, hidden: width, heads: heads, intermediate: intermediate,
                vocabularySize: tokenizer.vocabularySize, maxPositions: maxLength, dropout: dropout)
            return TransformerTextClassifier(c, classes: classes, rng: &rng)
        case .sentenceEmbedding:
            guard let table = tokenizer as? SentenceFeatureTable else {
                preconditionFailure("model.kind sentence_embedding needs the SentenceFeatureTable from NoisyLabelData.load")
            }
            return FeatureTableClassifier(table: table.tensor, hiddenWidth: hiddenWidth, classes: classes, dropout: dropout, rng: &rng)
        case .pretrainedTransformer:
            return try PretrainedTextClassifier.miniLM(
                tokenizer: tokenizer, maxLength: maxLength, classes: classes, dropout: dropout, rng: &rng)
        }
    }
}
