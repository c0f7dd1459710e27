import DataIO
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import ResultStore
import Tensors

/// `application: noisy-labels`: learns per-sample weights (Meta-Weight-Net) and corrected labels (MLC) for
/// weakly labeled text, guided by the clean `valid` split, with any hypergradient method (ALGORITHMS.md §6).
/// Records per-epoch weights, corrected labels and metrics; reports test accuracy and how well the
/// decisions find wrong weak labels (measured with train gold labels, which training never reads).
public struct NoisyLabelsApplication: WinnowApplication {
    public static let name = "noisy-labels"
    public static let summary = "Reweight and correct weakly labeled text with a meta-learned guide from a small clean set."

    public enum TrainLabels: String, RecipeChoice { case weak, gold }
    public enum TieChoice: String, RecipeChoice { case uniformSoft = "uniform_soft", abstain, random }
    public enum WeakTargets: String, RecipeChoice { case majority, voteShare = "vote_share" }
    public enum ModelKind: String, RecipeChoice { case embeddingBag = "embedding_bag", transformer, sentenceEmbedding = "sentence_embedding",
        pretrainedTransformer = "pretrained_transformer" }
    public enum Method: String, RecipeChoice { case finetune, sama, samaNA = "sama-na", darts, neumann, cg }
    public enum Normalization: String, RecipeChoice { case mean, weightSum = "weight_sum" }

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
        public init() {}
    }

    public struct MetaSettings: Codable, Sendable, Equatable {
        public var method = Method.sama
        /// Learn per-sample weights w = MWN(ℓ).
        public var reweight = true
        /// Learn corrected labels ŷ = MLC(h, ỹ).
        public var correct = false
        /// MLC's learned gate towards the weak label.
        public var gate = true
        /// SAMA / SAMA-NA / DARTS finite-difference radius α (ε = α/‖v‖).
        public var alpha: Float = 1
        /// SAMA / SAMA-NA: leave θ at θ − εv after a meta step (the paper's choice).
        public var baseUpdateAlongV = true
        /// SAMA / SAMA-NA / DARTS: perturb only the parameters the last base batch touched (see
        /// `Engine.Configuration.perturbTouchedParametersOnly`; matters for embedding models).
        public var perturbTouchedOnly = true
        /// SAMA / SAMA-NA / DARTS: feed the meta nets the same inputs (those at θ) in both perturbed passes (see
        /// `Engine.Configuration.freezeMetaInputs`); off, as in the paper's implementation.
        public var freezeMetaInputs = false
        /// Neumann / CG iterations, and the Neumann step size.
        public var iterations = 1
        public var neumannAlpha: Float = 1
        public var unroll = 10
        public var warmupSteps = 0
        public var learningRate: Float = 1e-3
        public var batchSize = 32
        /// How weights combine losses: `weight_sum` (Σ w·ℓ / Σ w) or `mean` ((1/N) Σ w·ℓ).
        public var normalization = Normalization.weightSum
        public init() {}
    }

    public struct Config: RecipeConfig, Equatable {
        public var dataset = DatasetSettings()
        public var model = ModelSettings()
        public var training = TrainingSettings()
        public var meta = MetaSettings()
        public init() {}

        public func validate() throws {
            func positive(_ value: Int, _ key: String) throws {
                guard value >= 1 else { throw InvalidSetting(key, "must be at least 1, got \(value)") }
            }
            try positive(training.epochs, "training.epochs")
            try positive(training.batchSize, "training.batch_size")
            try positive(meta.batchSize, "meta.batch_size")
            try positive(meta.unroll, "meta.unroll")
            try positive(meta.iterations, "meta.iterations")
            try positive(model.buckets, "model.buckets")
            try positive(model.ngrams, "model.ngrams")
            try positive(model.embeddingWidth, "model.embedding_width")
            try positive(model.hiddenWidth, "model.hidden_width")
            try positive(model.layers, "model.layers")
            try positive(model.vocabularySize, "model.vocabulary_size")
            guard model.maxLength >= 2 else { throw InvalidSetting("model.max_length", "must be at least 2, got \(model.maxLength)") }
            guard model.heads >= 1, model.width % model.heads == 0 else {
                throw InvalidSetting("model.heads", "must divide model.width (\(model.width)), got \(model.heads)")
            }
            guard training.learningRate > 0 else { throw InvalidSetting("training.learning_rate", "must be positive, got \(training.learningRate)") }
            guard meta.learningRate > 0 else { throw InvalidSetting("meta.learning_rate", "must be positive, got \(meta.learningRate)") }
            guard meta.alpha > 0 else { throw InvalidSetting("meta.alpha", "must be positive, got \(meta.alpha)") }
            guard model.dropout >= 0, model.dropout < 1 else { throw InvalidSetting("model.dropout", "must be in [0, 1), got \(model.dropout)") }
            guard training.warmupFraction >= 0, training.warmupFraction < 1 else {
                throw InvalidSetting("training.warmup_fraction", "must be in [0, 1), got \(training.warmupFraction)")
            }
            guard training.clipNorm.isFinite, training.clipNorm >= 0 else {
                throw InvalidSetting("training.clip_norm", "must be ≥ 0 (0 turns clipping off), got \(training.clipNorm)")
            }
            guard meta.warmupSteps >= 0 else { throw InvalidSetting("meta.warmup_steps", "must be ≥ 0, got \(meta.warmupSteps)") }
            if meta.method != .finetune, !meta.reweight, !meta.correct {
                throw InvalidSetting("meta.method", "'\(meta.method.rawValue)' needs something to learn: set meta.reweight or meta.correct to true")
            }
        }

        /// The engine's hypergradient method.
        public var hypergradientMethod: HypergradientMethod {
            switch meta.method {
            case .finetune: .finetune
            case .sama: .sama(alpha: meta.alpha, baseUpdateAlongV: meta.baseUpdateAlongV)
            case .samaNA: .samaNA(alpha: meta.alpha, baseUpdateAlongV: meta.baseUpdateAlongV)
            case .darts: .darts(alpha: meta.alpha)
            case .neumann: .neumann(iterations: meta.iterations, alpha: meta.neumannAlpha)
            case .cg: .cg(iterations: meta.iterations)
            }
        }

        /// The engine's settings for a run seeded with `seed`.
        func engineConfiguration(seed: UInt64) -> Engine<NoisyLabelProgram>.Configuration {
            var c = Engine<NoisyLabelProgram>.Configuration(
                method: hypergradientMethod, unroll: meta.unroll, warmupSteps: meta.warmupSteps,
                clipNorm: training.clipNorm > 0 ? training.clipNorm : nil, seed: seed &+ 13)
            c.perturbTouchedParametersOnly = meta.perturbTouchedOnly
            c.freezeMetaInputs = meta.freezeMetaInputs
            c.sparseRowReduction = training.sparseEmbeddingReduction
            return c
        }

        /// Meta nets are built only when meta learning runs.
        var learnsWeights: Bool { meta.method != .finetune && meta.reweight }
        var learnsLabels: Bool { meta.method != .finetune && meta.correct }
    }

    public static func run(_ config: Config, context: RunContext) throws -> RunSummary {
        try NoisyLabelRun(config: config, context: context).run()
    }
}

extension NoisyLabelsApplication.ModelSettings {
    /// The classifier these settings describe, over a tokenizer's vocabulary (for the sentence embedding,
    /// the tokenizer is the feature table built by `NoisyLabelData.load`).
    func makeClassifier(tokenizer: any TextTokenizer, classes: Int, rng: inout RandomGenerator) throws -> any TextClassifier {
        switch kind {
        case .embeddingBag:
            return EmbeddingBagClassifier(vocabularySize: tokenizer.vocabularySize, embeddingWidth: embeddingWidth,
                                          hiddenWidth: hiddenWidth, classes: classes, dropout: dropout, rng: &rng)
        case .transformer:
            let c = BertConfiguration(layers: layers, hidden: width, heads: heads, intermediate: intermediate,
                                      vocabularySize: tokenizer.vocabularySize, maxPositions: maxLength, dropout: dropout)
            return TransformerTextClassifier(c, classes: classes, rng: &rng)
        case .sentenceEmbedding:
            guard let table = tokenizer as? SentenceFeatureTable else {
                preconditionFailure("model.kind sentence_embedding needs the SentenceFeatureTable from NoisyLabelData.load")
            }
            return FeatureTableClassifier(table: table.tensor, hiddenWidth: hiddenWidth, classes: classes, dropout: dropout, rng: &rng)
        case .pretrainedTransformer:
            return try PretrainedTextClassifier.miniLM(tokenizer: tokenizer, maxLength: maxLength, classes: classes, dropout: dropout, rng: &rng)
        }
    }
}
