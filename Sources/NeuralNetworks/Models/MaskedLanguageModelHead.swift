import Tensors

/// A masked-language-model head in BERT layout (`BertOnlyMLMHead`): dense H → H, GELU, LayerNorm, then a
/// decoder tied to the encoder's word-embedding matrix E `[V, H]`:
///
///     logits = LayerNorm(GELU(h·Wᵀ + b))·Eᵀ + bias,   bias `[V]`
///
/// E is shared, not copied: the head reads the encoder's `embeddings.word_embeddings.weight` tensor itself, so
/// gradients of the MLM loss reach the embeddings and a change to E changes the logits. E is deliberately not
/// one of the head's own tensors (it belongs to the encoder): a model holding both lists it once, under the
/// encoder's key. Keys follow Hugging Face's `BertForMaskedLM`: `cls.predictions.transform.dense.*`,
/// `cls.predictions.transform.LayerNorm.*`, `cls.predictions.bias` (its tied `cls.predictions.decoder.*` are
/// the embedding matrix and this bias, and are not stored twice).
///
/// A tied decoder's gradient reaches every row of E, so E is no longer row-sparse when the head is trained
/// with it: a data-parallel level should not list it in `rowSparseKeys`.
public final class MaskedLanguageModelHead: Module {
    /// `cls.predictions.transform.dense`, H → H.
    public let dense: Linear
    /// `cls.predictions.transform.LayerNorm`.
    public let norm: LayerNorm
    /// `cls.predictions.bias`, one entry per vocabulary id (zeros when new).
    public let bias: Tensor
    /// The tied decoder weight `[V, H]`: the encoder's word-embedding table (shared, not owned).
    public let wordEmbeddings: Tensor

    /// A newly initialised head tied to `wordEmbeddings` `[V, H]`: the dense layer as ``Linear`` initialises
    /// it, LayerNorm at identity, the output bias zero.
    public init(wordEmbeddings: Tensor, layerNormEpsilon: Float = 1e-12, rng: inout RandomGenerator) {
        precondition(wordEmbeddings.rank == 2, "MaskedLanguageModelHead needs a [V, H] embedding table, got \(wordEmbeddings.shape)")
        let hidden = wordEmbeddings.shape[1]
        dense = Linear(hidden, hidden, rng: &rng)
        norm = LayerNorm(hidden, epsilon: layerNormEpsilon)
        bias = Tensor.zeros([wordEmbeddings.shape[0]], requiresGrad: true)
        self.wordEmbeddings = wordEmbeddings
    }

    /// A newly initialised head tied to `encoder`'s word embeddings, with its LayerNorm epsilon.
    public convenience init(tiedTo encoder: BertEncoder, rng: inout RandomGenerator) {
        self.init(
            wordEmbeddings: encoder.embeddings.words.weight, layerNormEpsilon: encoder.configuration.layerNormEpsilon, rng: &rng)
    }

    public var children: [(String, any Module)] {
        [("cls.predictions.transform.dense", dense), ("cls.predictions.transform.LayerNorm", norm)]
    }

    public var localTensors: [(String, Tensor)] { [("cls.predictions.bias", bias)] }

    /// Vocabulary size V.
    public var vocabularySize: Int { wordEmbeddings.shape[0] }

    /// Logits `[..., V]` for hidden states `[..., H]`.
    public func callAsFunction(_ hidden: Tensor) -> Tensor {
        let h = norm(dense(hidden).gelu())
        return h.matmul(wordEmbeddings, transposeB: true) + bias
    }

    /// The cross-entropy of each selected token, `[T]` (not averaged), from encoder hidden states `[B, L, H]`.
    ///
    /// Only the selected positions go through the head: their hidden states are gathered first, so the
    /// `[T, V]` logits exist for the masked tokens alone. Tokens are `(row, position, original id)`, the
    /// target being the original id. No tokens give an empty `[0]` tensor.
    public func tokenLosses(hidden: Tensor, tokens: [MaskedLanguageModeling.Target]) -> Tensor {
        precondition(hidden.rank == 3, "tokenLosses needs hidden states [B, L, H], got \(hidden.shape)")
        let (rows, length, width) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        if tokens.isEmpty { return Tensor.zeros([0]) }
        let positions = tokens.map { token in
            precondition(token.row >= 0 && token.row < rows && token.position >= 0 && token.position < length,
                         "tokenLosses: token at (\(token.row), \(token.position)) outside hidden states \(hidden.shape)")
            return token.row * length + token.position
        }
        let selected = hidden.reshaped([rows * length, width]).indexSelect(positions)
        return Loss.crossEntropy(self(selected), labels: tokens.map(\.original))
    }
}
