import Testing
import NeuralNetworks
import Optimizers
import Tensors
@testable import MetaLearning

/// `perturbTouchedParametersOnly`: a parameter the base loss does not depend on, with a meta gradient 10⁶
/// times larger than the rest, takes all of ‖v‖ and shrinks the perturbation of the parameters that matter
/// until float32 cancels the central difference. Masking it by the last base gradient (exactly zero there)
/// leaves the exact mixed product unchanged and restores the estimate.
@Suite struct TouchedPerturbationTests {
    /// L_base = ‖Xw − y‖² + β‖w − λ‖² (u unused); L_meta = ‖X'w − y'‖² + 10⁶‖u − 1‖².
    /// The mixed-product term of the hypergradient is exactly 2β·v_w (linear in θ), so with v = g_meta
    /// (SAMA-NA) the hypergradient is 2β·∂L_meta/∂w.
    final class Problem: BilevelProgram {
        typealias Batch = Void
        let problem: BiasedRegression
        let u = Tensor.zeros([4, 1], requiresGrad: true)
        let base: Level, meta: Level
        init() {
            problem = BiasedRegression(baseOptimizer: SGD(learningRate: 0.1), metaOptimizer: SGD(learningRate: 0.1))
            base = Level(name: "base", parameters: [("u", u), ("w", problem.w)], optimizer: SGD(learningRate: 0.1))
            meta = problem.meta
        }
        func nextBaseBatch() {}
        func nextMetaBatch() {}
        func baseLoss(_ batch: Void, context: ForwardContext) -> Tensor { problem.baseLoss((), context: context) }
        func metaLoss(_ batch: Void, context: ForwardContext) -> Tensor {
            let d = u - Tensor(repeating: 1, shape: [4, 1])
            return problem.metaLoss((), context: context) + (d * d).sum() * 1e6
        }
    }

    /// With SAMA (v = A ⊙ g_meta, A = the SGD learning rate 0.1, streamed and masked block by block) the
    /// mixed-product term is 2β·0.1·∂L_meta/∂w.
    func relativeError(touchedOnly: Bool, adapted: Bool = false, blockElements: Int = 1 << 18) throws -> Double {
        let program = Problem()
        let method: any Hypergradient = adapted ? SAMA(alpha: 1, baseUpdateAlongV: false) : SAMANA(alpha: 1, baseUpdateAlongV: false)
        var configuration = Engine<Problem>.Configuration(method: method, unroll: 1_000)
        configuration.perturbTouchedParametersOnly = touchedOnly
        configuration.metaGradientBlockElements = blockElements
        let engine = Engine(program: program, configuration: configuration)
        for _ in 0..<20 { try engine.step() }
        let gMetaW = Autodiff.gradients(of: program.metaLoss((), context: .init(training: false)), wrt: [program.problem.w])[0]
        let exact = gMetaW.scalars.map { 2 * Double(program.problem.beta) * Double($0) * (adapted ? 0.1 : 1) }
        let estimate = try engine.hypergradient(lastBatch: (), replayContext: .init(training: false)).hypergradient[0].scalars.map(
            Double.init)
        let error = zip(estimate, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        return error / exact.map { $0 * $0 }.reduce(0, +).squareRoot()
    }

    @Test func maskingUntouchedParametersRestoresTheMixedProduct() throws {
        let masked = try relativeError(touchedOnly: true), plain = try relativeError(touchedOnly: false)
        print("touched-only perturbation: relative error \(masked) masked, \(plain) unmasked")
        #expect(masked < 1e-3)
        #expect(plain > 10 * masked, "the unmasked estimate should suffer from the untouched parameter's share of ‖v‖")
    }

    /// Whole vectors, and one row per block (the mask's offsets into each parameter).
    @Test(arguments: [1 << 18, 1])
    func maskingAppliesToTheStreamedAdaptedVector(blockElements: Int) throws {
        let masked = try relativeError(touchedOnly: true, adapted: true, blockElements: blockElements)
        let plain = try relativeError(touchedOnly: false, adapted: true, blockElements: blockElements)
        print("touched-only perturbation, SAMA: relative error \(masked) masked, \(plain) unmasked")
        #expect(masked < 1e-3)
        #expect(plain > 10 * masked)
    }

    /// The mask is applied at each block's offset in the parameter: rows touched in different entries.
    @Test func streamedBlocksAreMaskedAtTheirOwnRows() {
        let sgd = SGD(learningRate: 0.5)
        let parameter: NamedParameter = ("w", Tensor(shape: [3, 2], storage: [1, 1, 1, 1, 1, 1]))
        sgd.step([parameter], gradients: [Tensor(shape: [3, 2], storage: [0.1, 0, 0, 0.2, 0, 0])])
        let mask = TouchedMask(Tensor(shape: [3, 2], storage: [0.1, 0, 0, 0.2, 0, 0]))
        let adapted = AdaptedMetaGradient(parameters: [parameter], optimizer: sgd, releasingState: false, touchedBy: [mask])
        var x: [Float] = [1, 2, 3, 4, 5, 6]
        for row in 0..<3 {
            x.withUnsafeMutableBufferPointer { all in
                adapted.consume(0, row..<(row + 1), UnsafeMutableBufferPointer(rebasing: all[(2 * row)..<(2 * row + 2)]))
            }
        }
        #expect(adapted.vectors()[0].scalars == [0.5, 0, 0, 2, 0, 0], "v = lr · x where the last gradient touched")
        #expect(abs(adapted.norm - (0.25 + 4.0).squareRoot()) < 1e-12)
    }
}
