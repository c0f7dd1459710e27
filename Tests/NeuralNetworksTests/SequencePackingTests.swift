import Testing
import Tensors
import WinnowTestSupport
@testable import NeuralNetworks

/// Packed token rows: the layout, its derivatives, and an encoder that gives at every token exactly what the
/// padded computation gives.
@Suite struct SequencePackingTests {
    static let mask = [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]

    @Test func tokensAreTheMaskedPositionsInOrderAndPaddingIsZero() {
        let packing = SequencePacking(mask: Self.mask)
        #expect(packing.tokenPositions == [0, 1, 2, 4, 5, 8, 9, 10, 11])
        #expect(packing.positionsInSequence == [0, 1, 2, 0, 1, 0, 1, 2, 3])
        #expect(packing.tokens(of: [[5, 6, 7, 0], [8, 9, 0, 0], [1, 2, 3, 4]]) == [5, 6, 7, 8, 9, 1, 2, 3, 4])
        #expect(!packing.isDense && SequencePacking(denseBatch: 3, length: 4).isDense)
        let rows = randomTensor([9, 2], seed: 1)
        let padded = packing.padded(rows)
        #expect(padded.shape == [3, 4, 2])
        #expect(Array(padded.scalars[6..<8]) == [0, 0] && Array(padded.scalars[12..<16]) == [0, 0, 0, 0])
        #expect(packing.packed(padded).scalars == rows.scalars)
    }

    @Test func packingAndPaddingDifferentiate() {
        let packing = SequencePacking(mask: Self.mask)
        let rows = randomTensor([9, 2], seed: 2), grid = randomTensor([3, 4, 2], seed: 3)
        expectDerivatives([rows]) { packing.padded(rows) * grid }
        expectDerivatives([grid]) { packing.packed(grid * grid) }
    }

    @Test func packedAttentionAndBlockDifferentiate() {
        var rng = RandomGenerator(seed: 4)
        let packing = SequencePacking(mask: Self.mask)
        let bias = MultiHeadSelfAttention.maskBias(Self.mask)
        let x = randomTensor([9, 4], seed: 5)
        let context = ForwardContext(training: true)
        let block = TransformerEncoderLayer(hidden: 4, heads: 2, intermediate: 6, dropout: 0, layerNormEpsilon: 1e-5, rng: &rng)
        expectDerivatives([x] + block.parameters()) { block(x, packing: packing, maskBias: bias, context) }
    }

    /// The encoder (packed) against embeddings and blocks run on the padded `[B, T, H]` batch.
    @Test func encoderMatchesThePaddedComputationAtEveryToken() {
        let configuration = BertConfiguration(
            layers: 2, hidden: 8, heads: 2, intermediate: 12, vocabularySize: 13, maxPositions: 6, dropout: 0, layerNormEpsilon: 1e-5)
        var rng = RandomGenerator(seed: 6)
        let encoder = BertEncoder(configuration, rng: &rng)
        for (key, table) in encoder.namedParameters() where key.hasSuffix("embeddings.weight") {
            table.assign(randomTensor(table.shape, seed: 7))
        }
        let ids = [[2, 5, 7, 0], [3, 11, 0, 0], [1, 4, 9, 12]]
        let context = ForwardContext.evaluation()
        let packed = encoder(ids, mask: Self.mask, context)

        let dense = SequencePacking(denseBatch: 3, length: 4)
        var padded = dense.padded(encoder.embeddings(ids, packing: dense, context))
        let bias = MultiHeadSelfAttention.maskBias(Self.mask)
        for layer in encoder.layers { padded = layer(padded, maskBias: bias, context) }

        let packing = SequencePacking(mask: Self.mask)
        #expect(packed.shape == [3, 4, 8])
        expectClose(packing.packed(packed).scalars, packing.packed(padded).scalars, tolerance: 2e-5)
        let paddingRows = Set(0..<12).subtracting(packing.tokenPositions)
        for row in paddingRows { #expect(Array(packed.scalars[(row * 8)..<(row * 8 + 8)]) == Array(repeating: 0, count: 8)) }
    }
}
