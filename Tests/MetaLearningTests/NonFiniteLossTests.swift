import Testing
import NeuralNetworks
import Optimizers
import Tensors
@testable import MetaLearning

/// A NaN loss stops the run with an error naming the step, before any parameter takes a NaN update.
@Suite struct NonFiniteLossTests {
    static let data = SyntheticNoisyLabels(
        classes: 3, dimension: 6, meanStd: 0.5, trainCount: 120, metaCount: 30, testCount: 10, noise: 0.3, seed: 4)

    /// `data` with one feature of row 0 replaced by NaN.
    static func poisoned(_ d: DenseClassificationData) -> DenseClassificationData {
        var values = d.features.scalars
        values[2] = .nan
        return DenseClassificationData(
            features: Tensor(shape: d.features.shape, storage: values), labels: d.labels, classCount: d.classCount)
    }

    func makeEngine(train: DenseClassificationData, clean: DenseClassificationData) -> Engine<DenseReweightingProgram> {
        var rng = RandomGenerator(seed: 1)
        let program = DenseReweightingProgram(
            model: MLP(widths: [6, 8, 3], rng: &rng), weightNet: MetaWeightNet(hidden: 4, rng: &rng),
            train: train, clean: clean, baseOptimizer: Adam(), metaOptimizer: Adam(),
            batchSize: 20, metaBatchSize: 30, normalization: .weightSum, seed: 2)
        return Engine(program: program, configuration: .init(method: .sama(alpha: 0.1), unroll: 2))
    }

    func allFinite(_ tensors: [Tensor]) -> Bool { tensors.allSatisfy { $0.scalars.allSatisfy(\.isFinite) } }

    @Test func nanInTrainingDataStopsAtTheBaseLoss() {
        let engine = makeEngine(train: Self.poisoned(Self.data.train), clean: Self.data.meta)
        #expect { try engine.run(steps: 60) } throws: { error in
            guard case let .nonFiniteLoss(which, step, _) = error as? EngineError else { return false }
            return which == "base" && step >= 1 && step <= 6  // row 0 is in one of the first epoch's 6 batches
        }
        #expect(allFinite(engine.program.base.tensors) && allFinite(engine.program.meta.tensors))
    }

    @Test func nanInTheCleanSetStopsTheMetaStepAndLeavesLambdaUntouched() throws {
        let engine = makeEngine(train: Self.data.train, clean: Self.poisoned(Self.data.meta))
        try engine.step()
        let lambdaBefore = engine.program.meta.tensors.flatMap(\.scalars)
        #expect { try engine.step() } throws: { error in
            guard case let .nonFiniteLoss(which, step, _) = error as? EngineError else { return false }
            return which == "meta" && step == 2
        }
        #expect(engine.program.meta.tensors.flatMap(\.scalars) == lambdaBefore)
        #expect(engine.metaStep == 0)
    }

    /// L_base = (w − λ)², L_meta = (w − 1)² + √u with u = 0 never moved by the base loss: the meta loss is finite,
    /// its gradient in u is infinite, and every finite-difference method stops with an error naming the step.
    final class SquareRootAtZero: BilevelProgram {
        let w = Tensor([0.5], requiresGrad: true), u = Tensor([0], requiresGrad: true), lambda = Tensor([2], requiresGrad: true)
        lazy var base = Level(name: "base", parameters: [("u", u), ("w", w)], optimizer: SGD(learningRate: 0.1))
        lazy var meta = Level(name: "meta", parameters: [("lambda", lambda)], optimizer: SGD(learningRate: 0.1))
        func nextBaseBatch() {}
        func nextMetaBatch() {}
        func baseLoss(_ batch: Void, context: ForwardContext) -> Tensor { let d = w - lambda; return (d * d).sum() }
        func metaLoss(_ batch: Void, context: ForwardContext) -> Tensor { let d = w - 1; return (d * d).sum() + u.sqrt().sum() }
    }

    @Test(arguments: [SAMA(alpha: 0.1), SAMANA(alpha: 0.1), DARTS()] as [any Hypergradient])
    func nonFiniteMetaDirectionStopsTheMetaStep(_ method: any Hypergradient) throws {
        let program = SquareRootAtZero()
        let engine = Engine(program: program, configuration: .init(method: method, unroll: 2))
        try engine.step()
        let before = (program.w.scalars, program.lambda.scalars)
        #expect { try engine.step() } throws: { error in
            guard case let .nonFiniteMetaDirection(step, norm) = error as? EngineError else { return false }
            return step == 2 && !norm.isFinite
        }
        #expect(program.lambda.scalars == before.1, "λ untouched")
        #expect(program.w.scalars.allSatisfy { $0.isFinite }, "θ never moved along a non-finite v")
        #expect(engine.metaStep == 0)
    }
}
