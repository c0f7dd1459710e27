import Testing
import NeuralNetworks
import Optimizers
import Tensors
@testable import MetaLearning

/// SAMA's adapted direction v = A ⊙ ∂L_meta/∂θ, built block by block from the streamed meta gradient by the
/// optimizer's `adaptedVectorBuilder`, against A taken from `updateDerivative` separately. On the biased regression the mixed
/// product is linear in θ, so the central difference is exact up to rounding: the hypergradient is 2β·v.
@Suite struct SamaAdaptationTests {
    /// 13 base parameters: one 8-lane block and a tail in the kernels.
    func program(_ baseOptimizer: any Optimizer = Adam(learningRate: 0.01)) -> BiasedRegression {
        BiasedRegression(d: 13, baseOptimizer: baseOptimizer, metaOptimizer: SGD(learningRate: 0.1))
    }

    func expectedDirection(_ program: BiasedRegression) -> [Double] {
        let gMeta = Autodiff.gradients(of: program.metaLoss((), context: .init(training: false)), wrt: [program.w])[0]
        let a = (program.base.optimizer as! any UpdateDerivative).updateDerivative(program.base.parameters)[0]
        return zip(a.scalars, gMeta.scalars).map { Double($0) * Double($1) }
    }

    @Test func hypergradientIsTheAdaptedMixedProduct() throws {
        let program = program()
        let engine = Engine(program: program, configuration: .init(method: .sama(alpha: 1, baseUpdateAlongV: false), unroll: 1_000))
        for _ in 0..<20 { try engine.step() }
        let v = expectedDirection(program)
        let exact = v.map { 2 * Double(program.beta) * $0 }
        let before = program.w.scalars
        let estimate = try engine.hypergradient(lastBatch: (), replayContext: .init(training: false)).hypergradient[0].scalars
        let error = zip(estimate, exact).map { (Double($0) - $1) * (Double($0) - $1) }.reduce(0, +).squareRoot()
        let norm = exact.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(error / norm < 1e-3, "SAMA hypergradient \(estimate) vs 2β·A⊙g_meta \(exact)")
        #expect(program.w.scalars == before, "without the base update θ is restored exactly")
    }

    /// With Adam, and with SGD with momentum (the optimizers' default builder, which adapts each block by A
    /// from `updateDerivative`), in blocks of one row or of the whole vector.
    @Test(arguments: [(false, 1 << 18), (false, 1), (true, 1 << 18), (true, 1)])
    func baseUpdateMovesThetaByMinusEpsilonV(sgd: Bool, blockElements: Int) throws {
        let program = program(sgd ? SGD(learningRate: 0.05, momentum: 0.9) : Adam(learningRate: 0.01))
        var configuration = Engine<BiasedRegression>.Configuration(method: .sama(alpha: 0.5, baseUpdateAlongV: true), unroll: 1_000)
        configuration.metaGradientBlockElements = blockElements
        let engine = Engine(program: program, configuration: configuration)
        for _ in 0..<20 { try engine.step() }
        let v = expectedDirection(program)
        let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
        let before = program.w.scalars
        _ = try engine.hypergradient(lastBatch: (), replayContext: .init(training: false))
        // θ − εv with ε = α/‖v‖: a step of length α against v's direction (computed as θ + εv − 2εv).
        for (i, (after, start)) in zip(program.w.scalars, before).enumerated() {
            #expect(abs(Double(after - start) + 0.5 * v[i] / norm) < 1e-5, "entry \(i)")
        }
    }

    /// The engine's meta step frees Adam's last gradient as v is formed (the next base step replaces it);
    /// the hypergradient is bit-identical to the one computed while keeping it.
    @Test func metaStepFreesTheLastGradientWithTheSameResult() throws {
        let kept = program(), freed = program()
        let keeping = Engine(program: kept, configuration: .init(method: .sama(alpha: 1, baseUpdateAlongV: true), unroll: 1_000))
        let freeing = Engine(program: freed, configuration: .init(method: .sama(alpha: 1, baseUpdateAlongV: true), unroll: 5))
        for _ in 0..<4 { try keeping.step(); try freeing.step() }
        try keeping.step()
        let expected = try keeping.hypergradient(lastBatch: (), replayContext: .init(training: false))
        #expect(kept.base.optimizer.stateDictionary()["w.last_grad"] != nil, "hypergradient() keeps A's state")
        try freeing.step()  // the meta step is due
        #expect(freed.base.optimizer.stateDictionary()["w.last_grad"] == nil)
        #expect(freeing.lastResult?.hypergradient.map(\.scalars) == expected.hypergradient.map(\.scalars))
        #expect(freeing.lastResult?.epsilon == expected.epsilon)
        #expect(freed.w.scalars == kept.w.scalars)
    }

    /// The public hypergradient with SAMA after the state for A was freed (by a meta step, or at an accumulation
    /// micro-step) throws a clear error instead of failing a precondition; after the next full step it works.
    @Test func hypergradientAfterTheStateWasFreedThrows() throws {
        let program = program()
        let engine = Engine(program: program, configuration: .init(method: .sama(alpha: 1, baseUpdateAlongV: false), unroll: 5))
        for _ in 0..<5 { try engine.step() }  // the fifth runs a meta step, which frees Adam's last gradient
        #expect(throws: EngineError.adaptationStateReleased(step: 5)) {
            try engine.hypergradient(lastBatch: (), replayContext: .init(training: false))
        }
        try engine.step()
        _ = try engine.hypergradient(lastBatch: (), replayContext: .init(training: false))

        let accumulating = Engine(
            program: self.program(),
            configuration: .init(method: .sama(alpha: 1, baseUpdateAlongV: false), unroll: 1_000, gradientAccumulation: 2))
        for _ in 0..<3 { try accumulating.step() }  // step 3 is a micro-step: no optimizer step brings A back
        #expect(throws: EngineError.adaptationStateReleased(step: 3)) {
            try accumulating.metaUpdate(lastBatch: (), replayContext: .init(training: false))
        }
    }

    /// Methods that do not adapt free the base optimizer's state for A before their passes; the next base
    /// step brings it back.
    @Test(arguments: [SAMANA(), DARTS(), Neumann(), ConjugateGradient()] as [any Hypergradient])
    func otherMethodsFreeTheLastGradient(_ method: any Hypergradient) throws {
        let program = program()
        let engine = Engine(program: program, configuration: .init(method: method, unroll: 2))
        try engine.step()
        #expect(program.base.optimizer.stateDictionary()["w.last_grad"] != nil)
        try engine.step()
        #expect(program.base.optimizer.stateDictionary()["w.last_grad"] == nil)
    }
}
