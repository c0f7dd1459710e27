import Testing
import Tensors
import WinnowTestSupport
@testable import NeuralNetworks

/// First- and second-order finite-difference checks of every layer, loss and model (inputs and parameters).
@Suite struct LayerDerivativeTests {
    @Test func linearEmbeddingLayerNorm() {
        var rng = RandomGenerator(seed: 1)
        let linear = Linear(4, 3, rng: &rng), x = randomTensor([5, 4], seed: 2)
        expectDerivatives([x] + linear.parameters()) { linear(x) }
        let embedding = Embedding(6, 3, std: 1, rng: &rng)
        expectDerivatives(embedding.parameters()) { embedding([1, 5, 1, 0], shape: [2, 2]) }
        let norm = LayerNorm(5, epsilon: 1e-5)
        norm.weight.assign(randomTensor([5], seed: 3, low: 0.5, high: 1.5)); norm.bias.assign(randomTensor([5], seed: 4))
        let h = randomTensor([3, 5], seed: 5, low: -2, high: 2)
        expectDerivatives([h] + norm.parameters()) { norm(h) }
    }

    @Test func batchNormTrainingAndEvaluation() {
        let bn = BatchNorm(3)
        bn.weight.assign(randomTensor([3], seed: 6, low: 0.5, high: 1.5))
        let x2 = randomTensor([6, 3], seed: 7, low: -2, high: 2), x4 = randomTensor([4, 3, 2, 2], seed: 8)
        let frozen = ForwardContext(training: true, updatesRunningStatistics: false)
        expectDerivatives([x2] + bn.parameters()) { bn(x2, frozen) }
        expectDerivatives([x4] + bn.parameters()) { bn(x4, frozen) }
        #expect(bn.runningMean.scalars == [0, 0, 0], "a frozen context must not touch running statistics")
        bn.runningMean.assign([0.1, -0.2, 0.3]); bn.runningVariance.assign([1.5, 0.5, 2])
        expectDerivatives([x4] + bn.parameters()) { bn(x4, .evaluation()) }
    }

    @Test func convolutionLayerAndDropout() {
        var rng = RandomGenerator(seed: 9)
        let conv = Conv2d(2, 3, kernel: 3, stride: 1, padding: 1, rng: &rng), x = randomTensor([2, 2, 4, 4], seed: 10)
        expectDerivatives([x] + conv.parameters()) { conv(x) }
        let dropout = Dropout(0.5), y = randomTensor([4, 6], seed: 11)
        expectDerivatives([y]) { dropout(y, ForwardContext(training: true, seed: 3)) }
    }

    @Test func attentionWithPaddingMaskAndEncoderBlock() {
        var rng = RandomGenerator(seed: 12)
        let attention = MultiHeadSelfAttention(hidden: 4, heads: 2, dropout: 0, layerNormEpsilon: 1e-5, rng: &rng)
        let x = randomTensor([2, 3, 4], seed: 13)
        let bias = MultiHeadSelfAttention.maskBias([[1, 1, 0], [1, 1, 1]])
        let context = ForwardContext(training: true)
        expectDerivatives([x] + attention.parameters()) { attention(x, maskBias: bias, context) }
        let block = TransformerEncoderLayer(hidden: 4, heads: 2, intermediate: 6, dropout: 0, layerNormEpsilon: 1e-5, rng: &rng)
        expectDerivatives([x] + block.parameters()) { block(x, maskBias: bias, context) }
    }

    @Test func paddedPositionsDoNotLeakIntoTokens() {
        var rng = RandomGenerator(seed: 14)
        let attention = MultiHeadSelfAttention(hidden: 4, heads: 2, dropout: 0, rng: &rng)
        let x = randomTensor([1, 3, 4], seed: 15)
        let bias = MultiHeadSelfAttention.maskBias([[1, 1, 0]])
        let before = attention(x, maskBias: bias, .evaluation()).scalars
        x.storage.withUnsafeBufferPointer { _ in }
        let changed = Tensor(shape: [1, 3, 4], storage: Array(x.scalars[0..<8]) + [9, -9, 9, -9])
        let after = attention(changed, maskBias: bias, .evaluation()).scalars
        expectClose(Array(before[0..<8]), Array(after[0..<8]), tolerance: 1e-5)
    }

    @Test func lossesHardAndSoft() {
        let logits = randomTensor([4, 3], seed: 16, low: -2, high: 2)
        expectDerivatives([logits]) { Loss.crossEntropy(logits, labels: [0, 2, 1, 2]) }
        let targets = Tensor(shape: [4, 3], storage: [0.2, 0.3, 0.5, 1, 0, 0, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4])
        expectDerivatives([logits]) { Loss.crossEntropy(logits, targets: targets) }
        // Label correction differentiates through the soft targets too (∂/∂t = −log softmax).
        let learnedTargets = Tensor(shape: [4, 3], storage: targets.scalars, requiresGrad: true)
        expectDerivatives([logits, learnedTargets]) { Loss.crossEntropy(logits, targets: learnedTargets) }
        // Soft targets that are one-hot give the hard loss.
        expectClose(
            Loss.crossEntropy(logits, targets: .oneHot([0, 2, 1, 2], classes: 3)).scalars,
            Loss.crossEntropy(logits, labels: [0, 2, 1, 2]).scalars)
    }

    @Test func modelsEndToEnd() {
        var rng = RandomGenerator(seed: 17)
        let mlp = MLP(widths: [5, 4, 3], activation: .gelu, rng: &rng), x = randomTensor([3, 5], seed: 18)
        expectDerivatives([x] + mlp.parameters()) { Loss.crossEntropy(mlp(x, .evaluation()), labels: [0, 1, 2]) }
        let frozen = ForwardContext(training: true, updatesRunningStatistics: false)
        let cnn = SmallCNN(inChannels: 1, imageSize: 4, channels: (2, 2), classes: 3, rng: &rng)
        let image = randomTensor([3, 1, 4, 4], seed: 19)
        // ReLU and max pooling have kinks: a small step keeps the differences on one side of them.
        expectGradients([image] + cnn.parameters(), step: 1e-3) { cnn(image, frozen) }
        let resnet = ResNet(inChannels: 1, widths: [2, 3], classes: 2, rng: &rng)
        expectGradients([image] + resnet.parameters(), step: 1e-3) { resnet(image, frozen) }
        expectHessianVectorProducts(resnet.parameters(), step: 1e-3) { resnet(image, frozen) }
        let config = BertConfiguration(
            layers: 1, hidden: 4, heads: 2, intermediate: 6, vocabularySize: 7, maxPositions: 5,
            dropout: 0, layerNormEpsilon: 1e-5)
        let bert = BertClassifier(config, classes: 2, rng: &rng)
        // Embeddings start at std 0.02, far below a 1e-2 difference step: give them unit scale for the check.
        for (key, table) in bert.namedParameters() where key.hasSuffix("embeddings.weight") {
            table.assign(randomTensor(table.shape, seed: 20))
        }
        expectDerivatives(bert.parameters()) {
            bert.features([[1, 4, 6], [2, 3, 0]], mask: [[1, 1, 1], [1, 1, 0]], .evaluation()).logits
        }
    }
}
