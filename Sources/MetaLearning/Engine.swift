import Foundation
import Dispatch
import NeuralNetworks
import Optimizers
import Tensors

/// What the engine reports to its observers (progress bars, the result store, early stopping).
public enum EngineEvent: Sendable {
    case baseStep(step: Int, loss: Float, learningRate: Float)
    case metaStep(step: Int, metaStep: Int, metaLoss: Float, hypergradientNorm: Float)
    /// Metrics returned by the evaluation hook.
    case evaluation(step: Int, metrics: [String: Double])
    /// A checkpoint was written.
    case checkpoint(step: Int, path: String)
}

/// Errors that stop a run; each names the step.
public enum EngineError: Error, LocalizedError, Equatable {
    /// The base loss (or the meta loss of a meta step) was NaN or infinite.
    case nonFiniteLoss(which: String, step: Int, value: Float)

    public var errorDescription: String? {
        switch self {
        case let .nonFiniteLoss(which, step, value):
            "\(which) loss is \(value) at base step \(step): training diverged or the data hold non-finite values"
        }
    }
}

/// Runs a bilevel program: base steps with gradient accumulation and LR schedules, and a meta step every
/// `unroll × gradientAccumulation` base steps once `warmupSteps` have passed (ALGORITHMS.md §1).
public final class Engine<Program: BilevelProgram> {
    public struct Configuration: Sendable, Equatable {
        public var method: HypergradientMethod
        public var unroll: Int
        public var warmupSteps: Int
        public var gradientAccumulation: Int
        public var clipNorm: Float?
        public var seed: UInt64
        /// Run the evaluation hook every this many base steps (and after the last one), if set.
        public var evaluationInterval: Int?
        /// Run the checkpoint hook every this many base steps, if set.
        public var checkpointInterval: Int?

        public init(method: HypergradientMethod, unroll: Int = 1, warmupSteps: Int = 0, gradientAccumulation: Int = 1,
                    clipNorm: Float? = nil, seed: UInt64 = 0, evaluationInterval: Int? = nil, checkpointInterval: Int? = nil) {
            precondition(evaluationInterval.map { $0 >= 1 } ?? true, "evaluationInterval must be ≥ 1")
            precondition(checkpointInterval.map { $0 >= 1 } ?? true, "checkpointInterval must be ≥ 1")
            self.evaluationInterval = evaluationInterval
            self.checkpointInterval = checkpointInterval
            precondition(unroll >= 1, "unroll must be ≥ 1, got \(unroll)")
            precondition(gradientAccumulation >= 1, "gradientAccumulation must be ≥ 1, got \(gradientAccumulation)")
            precondition(warmupSteps >= 0, "warmupSteps must be ≥ 0, got \(warmupSteps)")
            self.method = method; self.unroll = unroll; self.warmupSteps = warmupSteps
            self.gradientAccumulation = gradientAccumulation; self.clipNorm = clipNorm; self.seed = seed
        }
    }

    public let program: Program
    public let configuration: Configuration
    /// Base steps taken (micro-batches, counting accumulation steps).
    public private(set) var baseStep = 0
    /// Meta steps taken.
    public private(set) var metaStep = 0
    /// Wall-clock seconds spent in meta updates so far (hypergradient and λ step).
    public private(set) var metaSeconds: Double = 0
    /// The most recent meta step's result.
    public private(set) var lastResult: MetaStepResult?
    /// Forward context of the base steps: its generator drives dropout.
    public let context: ForwardContext
    private var observers: [(EngineEvent) -> Void] = []
    /// Called every `evaluationInterval` base steps with the step; its metrics become an `.evaluation` event.
    public var evaluate: ((Int) -> [String: Double])?
    /// Called every `checkpointInterval` base steps; returns where it wrote (see `enableCheckpoints`).
    public var checkpoint: ((Int) throws -> String)?
    /// Gradients summed over the micro-steps of the current accumulation window.
    var accumulatedGradients: [Tensor]?

    public init(program: Program, configuration: Configuration) {
        self.program = program
        self.configuration = configuration
        context = ForwardContext(training: true, seed: configuration.seed)
    }

    /// Registers an observer of progress events.
    public func observe(_ observer: @escaping (EngineEvent) -> Void) { observers.append(observer) }

    /// Runs base steps until `baseStep == steps`, then evaluates once more if an evaluation hook is set.
    public func run(steps: Int) throws {
        while baseStep < steps { try step() }
        if let evaluate, let interval = configuration.evaluationInterval, baseStep % interval != 0 {
            emit(.evaluation(step: baseStep, metrics: evaluate(baseStep)))
        }
    }

    /// One base step (one micro-batch), followed by a meta step, an evaluation and a checkpoint when due.
    /// Throws when a loss is not finite (before any parameter is updated with it) or a checkpoint fails.
    public func step() throws {
        let base = program.base
        let batch = program.nextBaseBatch()
        let replayState = context.rng
        let loss = program.baseLoss(batch, context: context)
        guard loss.item.isFinite else { throw EngineError.nonFiniteLoss(which: "base", step: baseStep + 1, value: loss.item) }
        let grads = Autodiff.gradients(of: loss, wrt: base.tensors)
        accumulatedGradients = accumulatedGradients.map { sum in withoutGrad { zip(sum, grads).map { $0 + $1 } } } ?? grads
        baseStep += 1
        let accumulation = configuration.gradientAccumulation
        if baseStep % accumulation == 0, let total = accumulatedGradients {
            let mean = accumulation == 1 ? total : withoutGrad { total.map { $0 * (1 / Float(accumulation)) } }
            if let clip = configuration.clipNorm { clipGradients(mean, maxNorm: clip) }
            base.applySchedule(step: baseStep - 1)
            base.optimizer.step(base.parameters, gradients: mean)
            accumulatedGradients = nil
        }
        emit(.baseStep(step: baseStep, loss: loss.item, learningRate: base.optimizer.learningRate))
        if configuration.method != .finetune, baseStep > configuration.warmupSteps,
           baseStep % (configuration.unroll * accumulation) == 0 {
            let replay = ForwardContext(training: context.training, updatesRunningStatistics: false)
            replay.rng = replayState
            try metaUpdate(lastBatch: batch, replayContext: replay)
        }
        if let evaluate, let interval = configuration.evaluationInterval, baseStep % interval == 0 {
            emit(.evaluation(step: baseStep, metrics: evaluate(baseStep)))
        }
        if let checkpoint, let interval = configuration.checkpointInterval, baseStep % interval == 0 {
            emit(.checkpoint(step: baseStep, path: try checkpoint(baseStep)))
        }
    }

    /// Computes the hypergradient on `lastBatch` and updates λ with the meta optimizer.
    /// Throws, leaving λ untouched, when the meta loss or the hypergradient is not finite.
    @discardableResult
    public func metaUpdate(lastBatch: Program.Batch, replayContext: ForwardContext) throws -> MetaStepResult {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { metaSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let result = hypergradient(lastBatch: lastBatch, replayContext: replayContext)
        let norm = Float(ParameterVectors.norm(result.hypergradient))
        guard configuration.method == .finetune || (result.metaLoss.isFinite && norm.isFinite) else {
            throw EngineError.nonFiniteLoss(which: "meta", step: baseStep, value: result.metaLoss.isFinite ? norm : result.metaLoss)
        }
        let meta = program.meta
        meta.applySchedule(step: metaStep)
        meta.optimizer.step(meta.parameters, gradients: result.hypergradient)
        metaStep += 1
        lastResult = result
        emit(.metaStep(step: baseStep, metaStep: metaStep, metaLoss: result.metaLoss,
                       hypergradientNorm: norm))
        return result
    }

    /// The hypergradient dL_meta/dλ of the configured method, without updating λ.
    public func hypergradient(lastBatch: Program.Batch, replayContext: ForwardContext) -> MetaStepResult {
        let metaContext = ForwardContext(training: context.training, updatesRunningStatistics: false,
                                         seed: configuration.seed &+ UInt64(metaStep) &+ 0x5A4D)
        let passes = MetaStepPasses(program: program, lastBatch: lastBatch, replayContext: replayContext, metaContext: metaContext)
        switch configuration.method {
        case .finetune:
            return MetaStepResult(hypergradient: program.meta.tensors.map { Tensor.zeros($0.shape) }, metaLoss: .nan, epsilon: nil)
        case let .sama(alpha, along):
            return FiniteDifferenceHypergradient(adapt: true, alpha: alpha, baseUpdateAlongV: along).compute(passes)
        case let .samaNA(alpha, along):
            return FiniteDifferenceHypergradient(adapt: false, alpha: alpha, baseUpdateAlongV: along).compute(passes)
        case let .darts(alpha):
            return FiniteDifferenceHypergradient(adapt: false, alpha: alpha, baseUpdateAlongV: false).compute(passes)
        case let .neumann(iterations, alpha):
            return ImplicitHypergradient(solver: .neumann(iterations: iterations, alpha: alpha)).compute(passes)
        case let .cg(iterations):
            return ImplicitHypergradient(solver: .conjugateGradient(iterations: iterations)).compute(passes)
        }
    }

    /// Sets the counters and the generator (checkpoint restore).
    func restoreCounters(baseStep: Int, metaStep: Int, rng: [UInt64]) {
        self.baseStep = baseStep
        self.metaStep = metaStep
        context.rng.state = rng
    }

    private func emit(_ event: EngineEvent) { for observer in observers { observer(event) } }
}
