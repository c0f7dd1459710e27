import Tensors

/// Multi-head self-attention in BERT layout (`self.query/key/value`, `output.dense`, `output.LayerNorm`),
/// post-LN: LayerNorm(x + Dropout(Dense(Attention(x)))).
public final class MultiHeadSelfAttention: Module {
    public let query: Linear, key: Linear, value: Linear
    public let outputDense: Linear
    public let outputNorm: LayerNorm
    public let heads: Int
    public let dropout: Dropout

    public init(hidden: Int, heads: Int, dropout: Float = 0.1, layerNormEpsilon: Float = 1e-12, rng: inout RandomGenerator) {
        precondition(hidden % heads == 0, "hidden size \(hidden) is not a multiple of \(heads) heads")
        query = Linear(hidden, hidden, rng: &rng)
        key = Linear(hidden, hidden, rng: &rng)
        value = Linear(hidden, hidden, rng: &rng)
        outputDense = Linear(hidden, hidden, rng: &rng)
        outputNorm = LayerNorm(hidden, epsilon: layerNormEpsilon)
        self.heads = heads
        self.dropout = Dropout(dropout)
    }

    public var children: [(String, any Module)] {
        [
            ("self.query", query), ("self.key", key), ("self.value", value),
            ("output.dense", outputDense), ("output.LayerNorm", outputNorm),
        ]
    }

    /// - Parameters:
    ///   - x: `[B, T, H]`.
    ///   - maskBias: additive attention bias `[B, 1, 1, T]` (0 for tokens, a large negative for padding), or nil.
    public func callAsFunction(_ x: Tensor, maskBias: Tensor?, _ context: ForwardContext) -> Tensor {
        SequencePacking.overDenseBatch(x) { rows, packing in self(rows, packing: packing, maskBias: maskBias, context) }
    }

    /// Attention over packed token rows.
    /// - Parameters:
    ///   - x: `[N, H]`, the tokens of `packing`.
    ///   - maskBias: additive attention bias `[B, 1, 1, T]` (0 for tokens, a large negative for padding), or nil.
    /// - Returns: `[N, H]`.
    public func callAsFunction(_ x: Tensor, packing: SequencePacking, maskBias: Tensor?, _ context: ForwardContext) -> Tensor {
        let (b, t, h) = (packing.batch, packing.length, x.shape[1])
        let d = h / heads
        func split(_ y: Tensor) -> Tensor { packing.padded(y).reshaped([b, t, heads, d]).permuted([0, 2, 1, 3]) }  // [B, nh, T, d]
        let q = split(query(x)), k = split(key(x)), v = split(value(x))
        var scores = q.matmul(k, transposeB: true) * (1 / Float(d).squareRoot())  // [B, nh, T, T]
        if let maskBias { scores = scores + maskBias }
        let probabilities = dropout(scores.softmax(), context)
        let attended = packing.packed(probabilities.matmul(v).permuted([0, 2, 1, 3]).reshaped([b, t, h]))  // [N, H]
        return outputNorm(x + dropout(outputDense(attended), context))
    }

    /// The additive bias for a padding mask `[B, T]` of 1 (token) / 0 (padding).
    public static func maskBias(_ mask: [[Int]]) -> Tensor {
        let b = mask.count, t = mask.first?.count ?? 0
        return Tensor(shape: [b, 1, 1, t], storage: mask.flatMap { $0.map { $0 == 0 ? -10_000 : 0 } })
    }
}

/// A post-LN transformer encoder block in BERT layout: attention, `intermediate.dense` + GELU,
/// `output.dense`, `output.LayerNorm`.
public final class TransformerEncoderLayer: Module {
    public let attention: MultiHeadSelfAttention
    public let intermediate: Linear
    public let output: Linear
    public let outputNorm: LayerNorm
    public let dropout: Dropout

    public init(
        hidden: Int, heads: Int, intermediate: Int, dropout: Float = 0.1, layerNormEpsilon: Float = 1e-12,
        rng: inout RandomGenerator
    ) {
        attention = MultiHeadSelfAttention(hidden: hidden, heads: heads, dropout: dropout, layerNormEpsilon: layerNormEpsilon, rng: &rng)
        self.intermediate = Linear(hidden, intermediate, rng: &rng)
        output = Linear(intermediate, hidden, rng: &rng)
        outputNorm = LayerNorm(hidden, epsilon: layerNormEpsilon)
        self.dropout = Dropout(dropout)
    }

    public var children: [(String, any Module)] {
        [("attention", attention), ("intermediate.dense", intermediate), ("output.dense", output), ("output.LayerNorm", outputNorm)]
    }

    /// - Parameters:
    ///   - x: `[B, T, H]`.
    ///   - maskBias: additive attention bias `[B, 1, 1, T]`, or nil.
    public func callAsFunction(_ x: Tensor, maskBias: Tensor?, _ context: ForwardContext) -> Tensor {
        SequencePacking.overDenseBatch(x) { rows, packing in self(rows, packing: packing, maskBias: maskBias, context) }
    }

    /// The block over packed token rows `[N, H]` (the tokens of `packing`); returns `[N, H]`.
    public func callAsFunction(_ x: Tensor, packing: SequencePacking, maskBias: Tensor?, _ context: ForwardContext) -> Tensor {
        let a = attention(x, packing: packing, maskBias: maskBias, context)
        return outputNorm(a + dropout(output(intermediate(a).gelu()), context))
    }
}
