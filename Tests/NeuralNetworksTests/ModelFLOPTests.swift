import Testing
@testable import NeuralNetworks
import Tensors
import WinnowTestSupport

/// The matrix-product operations `FLOPCounter` counts for a model's train step equal the textbook formulas, so the
/// benchmarks' GFLOP/s can be read against them.
@Suite struct ModelFLOPTests {
    @Test func mlpTrainStepIsThreeForwardsLessTheFirstInputGradient() {
        var rng = RandomGenerator(seed: 1)
        let (batch, widths) = (8, [20, 16, 12, 3])
        let mlp = MLP(widths: widths, rng: &rng)
        let x = Tensor.uniform([batch, widths[0]], using: &rng)
        let parameters = mlp.parameters()
        let flops = FLOPCounter.measure {
            Autodiff.gradients(of: Loss.meanCrossEntropy(mlp(x, .evaluation()), labels: Array(repeating: 1, count: batch)), wrt: parameters)
        }.flops
        let layers = zip(widths, widths.dropFirst()).map { 2 * batch * $0 * $1 }
        // Forward, ∂W of every layer, ∂x of every layer but the first (its input needs no gradient).
        #expect(flops == 3 * layers.reduce(0, +) - layers[0])
    }

    @Test func encoderLayerTrainStepMatchesTheTransformerFormula() {
        var rng = RandomGenerator(seed: 2)
        let (hidden, heads, intermediate, tokens, batch) = (16, 4, 32, 6, 2)
        let layer = TransformerEncoderLayer(hidden: hidden, heads: heads, intermediate: intermediate, dropout: 0, rng: &rng)
        let input = Tensor.normal([batch, tokens, hidden], using: &rng)
        let mask = MultiHeadSelfAttention.maskBias(Array(repeating: Array(repeating: 1, count: tokens), count: batch))
        let parameters = layer.parameters()
        let (y, forward) = FLOPCounter.measure { layer(input, maskBias: mask, .evaluation()) }
        // Per token: Q, K, V and output projections 4·2H², the feed-forward 2·2H·I, scores QKᵀ and the weighted
        // values 2·2T·H (over all heads).
        let perToken = 8 * hidden * hidden + 4 * hidden * intermediate + 4 * tokens * hidden
        #expect(forward == batch * tokens * perToken)
        let backward = FLOPCounter.measure { Autodiff.gradients(of: (y * y).mean(), wrt: parameters) }.flops
        // Backward: every product's two operand gradients, except the input gradients of the three projections
        // that read the layer's input, which needs none.
        #expect(backward == 2 * forward - 3 * batch * tokens * 2 * hidden * hidden)
    }
}
