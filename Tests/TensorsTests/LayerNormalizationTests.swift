import Testing
import WinnowTestSupport
@testable import Tensors

/// The fused layer normalisation against the composed formula, and its first and second derivatives.
@Suite struct LayerNormalizationTests {
    static func composed(_ x: Tensor, _ weight: Tensor, _ bias: Tensor, epsilon: Float) -> Tensor {
        let centred = x - x.mean(axes: [-1], keepDims: true)
        let variance = (centred * centred).mean(axes: [-1], keepDims: true)
        return centred * (variance + epsilon).rsqrt() * weight + bias
    }

    @Test func valuesAndGradientsMatchTheComposedFormula() {
        let x = Tensor(shape: [2, 3, 7], storage: randomTensor([2, 3, 7], seed: 1, low: -2, high: 3).scalars, requiresGrad: true)
        let weight = Tensor(shape: [7], storage: randomTensor([7], seed: 2, low: 0.5, high: 1.5).scalars, requiresGrad: true)
        let bias = Tensor(shape: [7], storage: randomTensor([7], seed: 3).scalars, requiresGrad: true)
        let probe = randomTensor([2, 3, 7], seed: 4)
        let fused = x.layerNormalized(weight: weight, bias: bias, epsilon: 1e-5)
        let reference = Self.composed(x, weight, bias, epsilon: 1e-5)
        expectClose(fused.scalars, reference.scalars, tolerance: 1e-5)
        let fusedGradients = Autodiff.gradients(of: (fused * probe).sum(), wrt: [x, weight, bias])
        let referenceGradients = Autodiff.gradients(of: (reference * probe).sum(), wrt: [x, weight, bias])
        for (a, b) in zip(fusedGradients, referenceGradients) { expectClose(a.scalars, b.scalars, tolerance: 1e-4) }
    }

    @Test func firstAndSecondDerivatives() {
        let x = randomTensor([4, 5], seed: 5, low: -2, high: 2)
        let weight = randomTensor([5], seed: 6, low: 0.5, high: 1.5), bias = randomTensor([5], seed: 7)
        expectDerivatives([x, weight, bias]) { x.layerNormalized(weight: weight, bias: bias, epsilon: 1e-5) }
    }

    @Test func aConstantRowNormalisesToTheBias() {
        let x = Tensor(shape: [1, 4], storage: [3, 3, 3, 3])
        let y = x.layerNormalized(weight: Tensor([2, 2, 2, 2]), bias: Tensor([0.5, -1, 0, 1]), epsilon: 1e-12)
        #expect(y.scalars == [0.5, -1, 0, 1])
    }
}
