import Tensors

/// Configuration of a BERT-style encoder (the fields of a Hugging Face `config.json`).
public struct BertConfiguration: Codable, Sendable, Equatable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var intermediate: Int
    public var vocabularySize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var dropout: Float
    public var layerNormEpsilon: Float

    public init(
        layers: Int, hidden: Int, heads: Int, intermediate: Int, vocabularySize: Int, maxPositions: Int = 512,
        typeVocabularySize: Int = 2, dropout: Float = 0.1, layerNormEpsilon: Float = 1e-12
    ) {
        self.layers = layers; self.hidden = hidden; self.heads = heads; self.intermediate = intermediate
        self.vocabularySize = vocabularySize; self.maxPositions = maxPositions; self.typeVocabularySize = typeVocabularySize
        self.dropout = dropout; self.layerNormEpsilon = layerNormEpsilon
    }

    /// all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, intermediate 1536, WordPiece vocabulary 30,522.
    public static let miniLM = BertConfiguration(layers: 6, hidden: 384, heads: 12, intermediate: 1536, vocabularySize: 30_522)
}

/// Word + position + token-type embeddings, LayerNorm, dropout (BERT `embeddings.*`).
public final class BertEmbeddings: Module {
    public let words: Embedding, positions: Embedding, tokenTypes: Embedding
    public let norm: LayerNorm
    public let dropout: Dropout

    public init(_ c: BertConfiguration, rng: inout RandomGenerator) {
        words = Embedding(c.vocabularySize, c.hidden, rng: &rng)
        positions = Embedding(c.maxPositions, c.hidden, rng: &rng)
        tokenTypes = Embedding(c.typeVocabularySize, c.hidden, rng: &rng)
        norm = LayerNorm(c.hidden, epsilon: c.layerNormEpsilon)
        dropout = Dropout(c.dropout)
    }

    public var children: [(String, any Module)] {
        [("word_embeddings", words), ("position_embeddings", positions), ("token_type_embeddings", tokenTypes), ("LayerNorm", norm)]
    }

    /// The embedded tokens of a padded batch of ids `[B][T]`, as packed rows `[N, H]` (`packing` says which
    /// positions hold tokens).
    public func callAsFunction(
        _ ids: [[Int]], packing: SequencePacking, tokenTypes types: [[Int]]? = nil, _ context: ForwardContext
    ) -> Tensor {
        precondition(
            packing.length <= positions.weight.shape[0], "sequence length \(packing.length) exceeds \(positions.weight.shape[0]) positions")
        let n = packing.tokenCount
        let typeIDs = types.map { packing.tokens(of: $0) } ?? [Int](repeating: 0, count: n)
        let sum = words(packing.tokens(of: ids), shape: [n]) + positions(packing.positionsInSequence, shape: [n])
            + tokenTypes(typeIDs, shape: [n])
        return dropout(norm(sum), context)
    }
}

/// A BERT-style encoder: embeddings and a stack of post-LN transformer blocks (`encoder.layer.N.*`).
public final class BertEncoder: Module {
    public let configuration: BertConfiguration
    public let embeddings: BertEmbeddings
    public let layers: [TransformerEncoderLayer]

    public init(_ configuration: BertConfiguration, rng: inout RandomGenerator) {
        self.configuration = configuration
        embeddings = BertEmbeddings(configuration, rng: &rng)
        layers = (0..<configuration.layers).map { _ in
            TransformerEncoderLayer(
                hidden: configuration.hidden, heads: configuration.heads, intermediate: configuration.intermediate,
                dropout: configuration.dropout, layerNormEpsilon: configuration.layerNormEpsilon, rng: &rng)
        }
    }

    public var children: [(String, any Module)] {
        [("embeddings", embeddings)] + layers.enumerated().map { ("encoder.layer.\($0.offset)", $0.element as any Module) }
    }

    /// Hidden states `[B, T, H]` for token ids and a padding mask (1 token / 0 padding), both `[B][T]`; zeros at
    /// the padding. The position-wise layers run on the tokens alone (``SequencePacking``).
    public func callAsFunction(_ ids: [[Int]], mask: [[Int]], tokenTypes: [[Int]]? = nil, _ context: ForwardContext) -> Tensor {
        forward(ids, mask: mask, tokenTypes: tokenTypes, context, keepingEveryLayer: false)[0]
    }

    /// The hidden states after the embeddings and after every layer (`configuration.layers + 1` tensors, each
    /// `[B, T, H]` with zeros at the padding), for features that read more than the last layer.
    public func hiddenStates(_ ids: [[Int]], mask: [[Int]], tokenTypes: [[Int]]? = nil, _ context: ForwardContext) -> [Tensor] {
        forward(ids, mask: mask, tokenTypes: tokenTypes, context, keepingEveryLayer: true)
    }

    /// The padded hidden states after the embeddings and every layer, or after the last layer only.
    private func forward(
        _ ids: [[Int]], mask: [[Int]], tokenTypes: [[Int]]?, _ context: ForwardContext, keepingEveryLayer: Bool
    ) -> [Tensor] {
        precondition(
            ids.count == mask.count && zip(ids, mask).allSatisfy { $0.count == $1.count }, "BertEncoder: ids and mask differ in shape")
        let packing = SequencePacking(mask: mask)
        var h = embeddings(ids, packing: packing, tokenTypes: tokenTypes, context)
        var states = keepingEveryLayer ? [packing.padded(h)] : []
        let bias = MultiHeadSelfAttention.maskBias(mask)
        for layer in layers {
            h = layer(h, packing: packing, maskBias: bias, context)
            if keepingEveryLayer { states.append(packing.padded(h)) }
        }
        return keepingEveryLayer ? states : [packing.padded(h)]
    }

    /// Mean of hidden states over the padding mask: `[B, H]` (sentence embedding before normalisation).
    public static func meanPool(_ hidden: Tensor, mask: [[Int]]) -> Tensor {
        let b = hidden.shape[0], t = hidden.shape[1]
        let weights = Tensor(
            shape: [b, t, 1],
            storage: mask.flatMap { row in
                let n = Float(Swift.max(row.reduce(0, +), 1))
                return row.map { Float($0) / n }
            })
        return (hidden * weights).sum(axes: [1])
    }
}

/// A BERT encoder with a classification head on the masked mean of the hidden states.
public final class BertClassifier: Module {
    public let encoder: BertEncoder
    public let classifier: Linear
    public let dropout: Dropout

    public init(_ configuration: BertConfiguration, classes: Int, rng: inout RandomGenerator) {
        encoder = BertEncoder(configuration, rng: &rng)
        classifier = Linear(configuration.hidden, classes, rng: &rng)
        dropout = Dropout(configuration.dropout)
    }

    public var children: [(String, any Module)] { [("bert", encoder), ("classifier", classifier)] }

    /// The pooled feature `[B, H]` (penultimate layer) and the logits `[B, classes]`.
    public func features(_ ids: [[Int]], mask: [[Int]], _ context: ForwardContext) -> (feature: Tensor, logits: Tensor) {
        let pooled = BertEncoder.meanPool(encoder(ids, mask: mask, context), mask: mask)
        return (pooled, classifier(dropout(pooled, context)))
    }
}
