import DataIO
import Foundation
import NeuralNetworks
import Recipes
import Runtime
import Tensors

/// Errors assembling a sentence embedder from a model directory.
public enum SentenceEmbedderError: Error, LocalizedError, Equatable {
    /// The vocabulary has more tokens than the encoder has word embeddings.
    case vocabularyMismatch(vocabulary: String, tokens: Int, configuration: String, vocabSize: Int)

    public var errorDescription: String? {
        switch self {
        case let .vocabularyMismatch(vocabulary, tokens, configuration, vocabSize):
            "\(vocabulary) has \(tokens) tokens but \(configuration) gives vocab_size \(vocabSize)"
        }
    }
}

/// A pretrained sentence encoder (sentence-transformers style): WordPiece ids, a BERT encoder, the mean of
/// the last hidden states over the tokens, L2-normalised. With all-MiniLM-L6-v2 the vectors have 384 entries
/// and their dot products are cosine similarities.
///
/// Not thread-safe: one embedder per thread.
public final class SentenceEmbedder {
    public let tokenizer: WordPieceTokenizer
    public let encoder: BertEncoder

    public init(tokenizer: WordPieceTokenizer, encoder: BertEncoder) {
        self.tokenizer = tokenizer
        self.encoder = encoder
    }

    /// Loads `directory/vocab.txt`, `directory/config.json` and `directory/model.safetensors`.
    public convenience init(directory: URL) throws {
        let encoder = try PretrainedBert.loadEncoder(directory: directory)
        let tokenizer = try Self.tokenizer(directory: directory, maxLength: encoder.configuration.maxPositions)
        try Self.checkVocabulary(tokenizer, fits: encoder.configuration, directory: directory)
        self.init(tokenizer: tokenizer, encoder: encoder)
    }

    /// The WordPiece tokenizer of `directory/vocab.txt`, cutting texts to `maxLength` ids by default.
    /// - Throws: ``PretrainedModelError/fileNotFound(path:)`` without the file; ``WordPieceError`` on a bad one.
    public static func tokenizer(directory: URL, maxLength: Int) throws -> WordPieceTokenizer {
        let vocabulary = directory.appendingPathComponent("vocab.txt")
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw PretrainedModelError.fileNotFound(path: vocabulary.path)
        }
        return try WordPieceTokenizer(vocabularyFile: vocabulary, defaultMaxLength: maxLength)
    }

    /// Throws ``SentenceEmbedderError/vocabularyMismatch(vocabulary:tokens:configuration:vocabSize:)`` unless
    /// every id of `tokenizer` has a word embedding in an encoder of `configuration` (both from `directory`).
    public static func checkVocabulary(_ tokenizer: any TextTokenizer, fits configuration: BertConfiguration, directory: URL) throws {
        guard tokenizer.vocabularySize <= configuration.vocabularySize else {
            throw SentenceEmbedderError.vocabularyMismatch(
                vocabulary: directory.appendingPathComponent("vocab.txt").path,
                tokens: tokenizer.vocabularySize,
                configuration: directory.appendingPathComponent("config.json").path,
                vocabSize: configuration.vocabularySize)
        }
    }

    /// all-MiniLM-L6-v2 from `$WINNOW_MINILM_DIR` or the default directory (`bash scripts/install-minilm.sh` installs it).
    public static func miniLM(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SentenceEmbedder {
        try SentenceEmbedder(directory: PretrainedBert.miniLMDirectory(environment: environment))
    }

    /// Which hidden states a sentence embedding pools.
    public enum Layers: String, RecipeChoice {
        /// The last layer's masked mean, unit length (the sentence-transformers embedding).
        case last
        /// The masked mean after the embeddings and after every layer, each scaled to length 1/√(layers + 1) and
        /// concatenated (unit length overall): the lexical lower layers beside the semantic last one.
        case all
    }

    /// Width of the embeddings (the encoder's hidden size).
    public var dimension: Int { encoder.configuration.hidden }

    /// Width of the embeddings that pool `layers`.
    public func dimension(_ layers: Layers) -> Int { Self.dimension(layers, of: encoder.configuration) }

    /// Width of the embeddings that pool `layers` of an encoder of `configuration`.
    public static func dimension(_ layers: Layers, of configuration: BertConfiguration) -> Int {
        switch layers {
        case .last: configuration.hidden
        case .all: configuration.hidden * (configuration.layers + 1)
        }
    }

    /// Unit-length embeddings of `texts`, in order.
    ///
    /// Inference mode, no graph recorded. Texts are cut to `maxLength` tokens (`[CLS]` and `[SEP]` included,
    /// at most the encoder's positions), sorted by length and run `batchSize` at a time, each batch padded to
    /// its longest text only.
    /// With `layers: .all` each vector is the concatenation described at ``Layers/all``.
    public func embed(_ texts: [String], maxLength: Int = 128, batchSize: Int = 64, layers: Layers = .last) -> [[Float]] {
        precondition(batchSize >= 1, "SentenceEmbedder.embed needs batchSize ≥ 1, got \(batchSize)")
        let limit = Swift.max(2, Swift.min(maxLength, encoder.configuration.maxPositions))
        let ids = texts.map { tokenizer.encode($0, maxLength: limit) }
        let order = ids.indices.sorted { ids[$0].count != ids[$1].count ? ids[$0].count < ids[$1].count : $0 < $1 }
        var result = [[Float]](repeating: [], count: texts.count)
        let context = ForwardContext(training: false)
        let width = dimension
        let parts = layers == .last ? 1 : encoder.configuration.layers + 1
        let partScale = 1 / Float(parts).squareRoot()
        for batchStart in stride(from: 0, to: order.count, by: batchSize) {
            let members = order[batchStart..<Swift.min(batchStart + batchSize, order.count)]
            let length = members.map { ids[$0].count }.max() ?? 2
            var batch: [[Int]] = [], mask: [[Int]] = []
            batch.reserveCapacity(members.count); mask.reserveCapacity(members.count)
            for i in members {
                let padding = length - ids[i].count
                batch.append(ids[i] + [Int](repeating: tokenizer.paddingID, count: padding))
                mask.append([Int](repeating: 1, count: ids[i].count) + [Int](repeating: 0, count: padding))
            }
            let states = withoutGrad {
                layers == .last ? [encoder(batch, mask: mask, context)] : encoder.hiddenStates(batch, mask: mask, context)
            }
            for (part, state) in states.enumerated() {
                let pooled = withoutGrad { BertEncoder.meanPool(state, mask: mask) }
                pooled.withUnsafeBufferPointer { values in
                    for (row, i) in members.enumerated() {
                        let vector = values[(row * width)..<((row + 1) * width)]
                        let norm = Swift.max(vector.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                        if part == 0 { result[i].reserveCapacity(width * parts) }
                        result[i] += vector.map { $0 * partScale / norm }
                    }
                }
            }
        }
        return result
    }

    /// Cosine similarity of two vectors (the dot product, for unit-length embeddings).
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "cosine of vectors of lengths \(a.count) and \(b.count)")
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for k in a.indices { dot += a[k] * b[k]; na += a[k] * a[k]; nb += b[k] * b[k] }
        return dot / Swift.max((na * nb).squareRoot(), 1e-12)
    }
}
