import Distributed
import Foundation
import MetaLearning
import NeuralNetworks
import NoisyLabels
import Optimizers
import Runtime
import Tensors

extension DataParallelBenchmark {
    /// The noisy-label application's transformer for `Model.textTransformer`: a BERT-layout encoder over a
    /// word vocabulary of the training texts, trained on the majority vote of the weak labels of a WRENCH
    /// archive, guided by its clean `valid` split. Dropout is 0 so every rank count computes the same thing.
    public struct TextSettings: Codable, Sendable, Equatable {
        /// A WRENCH-layout archive (`{train,valid,test}.json` + `label.json`).
        public var archive = "Datasets/rt-sentiment-weak.tar.gz"
        public var layers = 2
        public var width = 256
        public var heads = 4
        public var intermediate = 1024
        /// Tokens per text (longer texts are cut); a batch is padded to its longest text.
        public var maxLength = 48
        /// Words of the vocabulary (plus the special tokens).
        public var vocabularySize = 8_000
        /// Learn corrected labels (MLC) besides the sample weights (MWN) when the method is not finetune.
        public var labelCorrection = true
        public init() {}

        /// `L2-H256-h4-I1024-T48-V8000`: layers, width, heads, intermediate width, max length, vocabulary.
        public var description: String {
            "L\(layers)-H\(width)-h\(heads)-I\(intermediate)-T\(maxLength)-V\(vocabularySize)"
        }
    }

    /// `NoisyLabelProgram` on a `TransformerTextClassifier`, as `winnow run` of the noisy-label application
    /// builds it, with a constant learning rate, mean weight normalisation (exact under sharding) and no
    /// meta nets for finetune.
    static func runTextTransformer(_ c: Configuration, communicator: any Communicator) throws -> Result {
        let t = c.text
        guard t.width % t.heads == 0 else { throw DataParallelBenchmarkError.headsDoNotDivideWidth(width: t.width, heads: t.heads) }
        var dataset = NoisyLabelsApplication.DatasetSettings()
        dataset.archive = t.archive
        var settings = NoisyLabelsApplication.ModelSettings()
        settings.kind = .transformer
        settings.layers = t.layers; settings.width = t.width; settings.heads = t.heads; settings.intermediate = t.intermediate
        settings.maxLength = t.maxLength
        settings.vocabularySize = t.vocabularySize
        settings.dropout = 0
        let (data, tokenizer) = try NoisyLabelData.load(dataset, model: settings, seed: c.seed)

        var rng = RandomGenerator(seed: c.seed &+ 1)
        let model = try settings.makeClassifier(tokenizer: tokenizer, classes: data.train.classCount, rng: &rng)
        let learns = c.meta.learnsMeta
        let metaNets = NoisyLabelMetaNets(
            reweight: learns, correct: learns && t.labelCorrection, gated: true,
            featureWidth: model.featureWidth, classes: data.train.classCount, rng: &rng)
        let program = NoisyLabelProgram(
            model: model, metaNets: metaNets, train: data.train, clean: data.clean, baseOptimizer: Adam(learningRate: 1e-3),
            baseSchedule: .constant, metaOptimizer: Adam(learningRate: 1e-3), batchSize: c.batchSize,
            metaBatchSize: c.meta.batchSize, normalization: c.meta.normalization, seed: c.seed &+ 2,
            rank: communicator.rank, worldSize: communicator.size)
        var result = try measure(program, c, communicator: communicator)
        result.architecture = "transformer " + t.description + (learns ? (t.labelCorrection ? " +MWN+MLC" : " +MWN") : "")
        return result
    }
}

/// Settings `winnow bench ddp` cannot run with.
public enum DataParallelBenchmarkError: Error, LocalizedError, Equatable {
    case headsDoNotDivideWidth(width: Int, heads: Int)

    public var errorDescription: String? {
        switch self {
        case let .headsDoNotDivideWidth(width, heads): "--heads \(heads) must divide --width \(width)"
        }
    }
}
