import Foundation
import Testing
@testable import Optimizers
import Tensors

/// The reference trajectories use 4-element parameters, which only reach the kernels' scalar tails. These
/// tests run 8-lane blocks and tails together and require bit-identical results to one-element parameters
/// (scalar code), so the vector path follows the same reference.
@Suite struct AdamKernelTests {
    /// 37 entries: four 8-lane blocks and a 5-entry tail; values spread over several magnitudes, some zero.
    private static let count = 37
    private static func values(_ seed: Double) -> [Float] {
        (0..<count).map { i -> Float in
            if i % 9 == 4 { return 0 }
            let scale: Double = Foundation.pow(10, Double(i % 5) - 2)
            return Float(Foundation.sin(seed + 1.7 * Double(i)) * scale)
        }
    }

    private static func make(_ name: String) -> Adam {
        switch name {
        case "adamL2": Adam(learningRate: 0.01, weightDecay: 0.1)
        case "adamW": Adam.adamW(learningRate: 0.01, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.1)
        default: Adam(learningRate: 0.01)
        }
    }

    @Test(arguments: ["adam", "adamL2", "adamW"])
    func vectorBlocksEqualScalarTail(_ name: String) {
        let whole = Self.make(name), split = Self.make(name)
        let theta = Tensor(Self.values(0.3), requiresGrad: true)
        let pieces = Self.values(0.3).map { Tensor([$0], requiresGrad: true) }
        let named = pieces.enumerated().map { ("p\($0.offset)", $0.element) }
        for t in 0..<3 {
            let g = Self.values(1.1 + Double(t))
            whole.step([("theta", theta)], gradients: [Tensor(g)])
            split.step(named, gradients: g.map { Tensor([$0]) })
        }
        #expect(theta.scalars == pieces.map { $0.scalars[0] })
        let derivative = whole.updateDerivative([("theta", theta)])[0].scalars
        #expect(derivative == split.updateDerivative(named).map { $0.scalars[0] })
        #expect(derivative.allSatisfy { $0.isFinite && $0 > 0 })
        // The fused in-place A ⊙ x equals A times x, entry for entry.
        let x = Self.values(2.9), adapted = Tensor(x)
        whole.adaptWhole([adapted], parameters: [("theta", theta)])
        #expect(adapted.scalars == zip(derivative, x).map { $0 * $1 })
    }

    @Test func fusedProductForParametersWithoutState() {
        // A parameter the optimizer never stepped gets A = k(1 − β1)/ε', in the product as in A itself.
        let adam = Adam(learningRate: 0.01)
        let stepped = Tensor(Self.values(0.3), requiresGrad: true), fresh = Tensor([1, -2, 3], requiresGrad: true)
        adam.step([("stepped", stepped)], gradients: [Tensor(Self.values(1.1))])
        let parameters = [("stepped", stepped), ("fresh", fresh)]
        let derivative = adam.updateDerivative(parameters)
        let x = [Self.values(2.9), [0.5, 0.25, -1]]
        let adapted = x.map { Tensor($0) }
        adam.adaptWhole(adapted, parameters: parameters)
        for i in 0..<2 {
            #expect(adapted[i].scalars == zip(derivative[i].scalars, x[i]).map { $0 * $1 })
        }
    }

    @Test func defaultProductMultiplies() {
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
        let theta = Tensor([1, 2, 3], requiresGrad: true)
        sgd.step([("theta", theta)], gradients: [Tensor([0.1, 0.2, 0.3])])
        let x = Tensor([1, -1, 2])
        sgd.adaptWhole([x], parameters: [("theta", theta)])
        #expect(x.scalars == [0.19, -0.19, 0.38].map { Float($0) })
    }
}

/// `releaseUpdateDerivativeState`: Adam frees a parameter's last gradient; its next step brings A back.
@Suite struct AdamReleaseTests {
    @Test func releasedGradientLeavesTheStateAndComesBackWithTheNextStep() throws {
        let adam = Adam(learningRate: 0.01), reference = Adam(learningRate: 0.01)
        let a = Tensor([0.5, -1, 2], requiresGrad: true), b = Tensor([3, 0.25], requiresGrad: true)
        let ra = a.copy(), rb = b.copy()
        let params: [NamedParameter] = [("a", a), ("b", b)], refs: [NamedParameter] = [("a", ra), ("b", rb)]
        adam.step(params, gradients: [Tensor([0.1, 0.2, -0.3]), Tensor([1, -2])])
        reference.step(refs, gradients: [Tensor([0.1, 0.2, -0.3]), Tensor([1, -2])])
        adam.releaseUpdateDerivativeState([("a", a)])
        let state = adam.stateDictionary()
        #expect(state["a.last_grad"] == nil && state["b.last_grad"] != nil)
        #expect(adam.updateDerivative([("b", b)])[0].scalars == reference.updateDerivative([("b", rb)])[0].scalars)
        // The moments are untouched: the next step and its A equal the reference's.
        adam.step(params, gradients: [Tensor([-0.4, 0, 0.7]), Tensor([0.5, 0.5])])
        reference.step(refs, gradients: [Tensor([-0.4, 0, 0.7]), Tensor([0.5, 0.5])])
        #expect(a.scalars == ra.scalars && b.scalars == rb.scalars)
        #expect(adam.updateDerivative(params).map(\.scalars) == reference.updateDerivative(refs).map(\.scalars))
        // A checkpoint written after a release restores, and the step after it matches too.
        adam.releaseUpdateDerivativeState(params)
        let restored = Adam(learningRate: 0.01)
        try restored.loadState(adam.stateDictionary(), parameters: params)
        restored.step(params, gradients: [Tensor([0.3, 0.3, 0.3]), Tensor([-1, 1])])
        reference.step(refs, gradients: [Tensor([0.3, 0.3, 0.3]), Tensor([-1, 1])])
        #expect(a.scalars == ra.scalars && b.scalars == rb.scalars)
        #expect(restored.updateDerivative(params).map(\.scalars) == reference.updateDerivative(refs).map(\.scalars))
    }
}
