import Foundation
import Dispatch
import Distributed
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
    /// `hypergradient` / `metaUpdate` with an adapting method (SAMA) after the base optimizer's state for A was
    /// freed: by a meta step of `step()`, or at an accumulation micro-step.
    case adaptationStateReleased(step: Int)
    /// The method adapts the meta gradient with the base optimizer's ∂u/∂g (SAMA), which this optimizer does not
    /// provide (it does not conform to `UpdateDerivative`).
    case noUpdateDerivative(optimizer: String)
    /// The direction v of a finite-difference meta step (the meta gradient, adapted for SAMA) was NaN or infinite
    /// although the meta loss was finite.
    case nonFiniteMetaDirection(step: Int, norm: Double)

    public var errorDescription: String? {
        switch self {
        case let .nonFiniteLoss(which, step, value):
            "\(which) loss is \(value) at base step \(step): training diverged or the data hold non-finite values"
        case let .adaptationStateReleased(step):
            "the base optimizer's ∂u/∂g of its last step is no longer available at base step \(step) (freed by a meta "
                + "step or at an accumulation micro-step): call hypergradient / metaUpdate right after a base step that "
                + "ends an accumulation window, before step() runs a meta step"
        case let .noUpdateDerivative(optimizer):
            "SAMA needs the base optimizer's update derivative ∂u/∂g, which \(optimizer) does not provide: use Adam, "
                + "AdamW or SGD, or a method without adaptation (sama-na, darts, neumann, cg)"
        case let .nonFiniteMetaDirection(step, norm):
            "the meta gradient's direction v has norm \(norm) at base step \(step) although the meta loss is finite: "
                + "the meta loss is not differentiable at the current parameters (e.g. a square root at 0) or overflows"
        }
    }
}

/// Runs a bilevel program: base steps with gradient accumulation and LR schedules, and a meta step every
/// `unroll × gradientAccumulation` base steps once `warmupSteps` have passed (docs/ALGORITHMS.md §1).
public final class Engine<Program: BilevelProgram> {
    public struct Configuration: Sendable {
        /// How meta steps compute dL_meta/dλ (`SAMA`, `DARTS`, …; `Finetune` runs none).
        public var method: any Hypergradient
        public var unroll: Int
        public var warmupSteps: Int
        public var gradientAccumulation: Int
        public var clipNorm: Float?
        public var seed: UInt64
        /// Run the evaluation hook every this many base steps (and after the last one), if set.
        public var evaluationInterval: Int?
        /// Run the checkpoint hook every this many base steps, if set.
        public var checkpointInterval: Int?
        /// Data parallelism: the largest gradient all-reduce bucket, in bytes (default 4 MB).
        public var bucketCapacityBytes: Int = GradientBuckets.defaultCapacityBytes
        /// Data parallelism: test pending all-reduces each time a gradient is ready, so MPI progresses them
        /// while backward runs (MPI moves data only inside MPI calls).
        public var progressDuringBackward = true
        /// Data parallelism: reduce the base level's row-sparse parameters (`Level.rowSparseKeys`, embedding
        /// tables) by the rows some rank's gradient touches, after backward, instead of whole in the buckets.
        /// Same result either way; fewer bytes when batches use few of the table's rows, but the exchange cannot
        /// start before backward ends, so where bytes are cheap the dense buckets hide more of it (`bench ddp
        /// --sparse-embeddings`, docs/benchmark-notes.md).
        /// Off by default; turn it on where the network is the bottleneck.
        public var sparseRowReduction = false
        /// Data parallelism: compare checksums of θ, λ and optimizer state across ranks every this many base
        /// steps (nil: never). A mismatch throws `ReplicaDivergence` on every rank.
        public var replicaCheckInterval: Int? = 200
        /// SAMA / SAMA-NA / DARTS: zero v on the parameters whose last base gradient is exactly zero (for
        /// example the embedding rows of tokens the last base batch does not contain) before ε = α/‖v‖. The
        /// base loss on that batch does not depend on them, so the mixed product is unchanged in exact
        /// arithmetic, but their share of ‖v‖ no longer shrinks the perturbation of the parameters that
        /// matter. With Adam's adaptation, rows that are rarely updated have ∂u/∂g up to lr/ε' and would
        /// otherwise dominate v.
        public var perturbTouchedParametersOnly = false
        /// SAMA: the largest row block (in floats) of a weight's meta gradient computed at once while v is
        /// formed (`Autodiff.gradients(of:wrt:streaming:)`). Larger blocks cost that much more memory; what they
        /// change in time is measured by `winnow bench meta --block-elements` (docs/benchmark-notes.md).
        public var metaGradientBlockElements = 1 << 18 {
            didSet { precondition(metaGradientBlockElements >= 1, "metaGradientBlockElements must be ≥ 1") }
        }

        public init(
            method: some Hypergradient, unroll: Int = 1, warmupSteps: Int = 0, gradientAccumulation: Int = 1,
            clipNorm: Float? = nil, seed: UInt64 = 0, evaluationInterval: Int? = nil, checkpointInterval: Int? = nil
        ) {
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
    /// Wall-clock seconds per phase of the steps so far (base forward, backward, optimizer; meta gradient,
    /// hypergradient base passes, meta optimizer).
    public let phases = PhaseClock()
    /// The most recent meta step's result.
    public private(set) var lastResult: MetaStepResult?
    /// The gradient of the last optimizer step (kept only for `perturbTouchedParametersOnly`).
    private var lastTouched: [TouchedMask]?
    /// Forward context of the base steps: its generator drives dropout.
    public let context: ForwardContext
    private var observers: [(EngineEvent) -> Void] = []
    /// Called every `evaluationInterval` base steps with the step; its metrics become an `.evaluation` event.
    public var evaluate: ((Int) -> [String: Double])?
    /// Called every `checkpointInterval` base steps; returns where it wrote (see `enableCheckpoints`).
    public var checkpoint: ((Int) throws -> String)?
    /// Gradients summed over the micro-steps of the current accumulation window.
    var accumulatedGradients: [Tensor]?
    /// The ranks this engine trains with (one process by default).
    public let communicator: any Communicator
    /// Mean all-reduce of θ's gradients, overlapped with the base backward.
    let baseReducer: BucketedAllReduce
    /// Mean all-reduce of λ's hypergradient, overlapped with the g⁻ backward.
    let metaReducer: BucketedAllReduce

    /// - Parameter communicator: with more than one rank, `program.nextBaseBatch()` must return this rank's
    ///   shard of the global batch (all shards the same size) and `nextMetaBatch()` the same whole meta batch
    ///   on every rank; the engine averages gradients and hypergradients (see `Engine+Distributed.swift`).
    public init(program: Program, configuration: Configuration, communicator: any Communicator = SingleProcessCommunicator()) {
        self.program = program
        self.configuration = configuration
        self.communicator = communicator
        context = ForwardContext(training: true, seed: configuration.seed)
        baseReducer = BucketedAllReduce(
            communicator: communicator, counts: program.base.tensors.map(\.count),
            rowWidths: configuration.sparseRowReduction ? program.base.rowWidths : nil,
            capacityBytes: configuration.bucketCapacityBytes)
        metaReducer = BucketedAllReduce(
            communicator: communicator, counts: program.meta.tensors.map(\.count),
            capacityBytes: configuration.bucketCapacityBytes)
        baseReducer.progressPending = configuration.progressDuringBackward
        metaReducer.progressPending = configuration.progressDuringBackward
    }

    /// Time and bytes of the gradient all-reduces of base steps so far.
    public var baseCommunication: AllReduceStatistics { baseReducer.statistics }
    /// Record when each base step's backward and gradient wait ended (`baseCommunicationRounds`; benchmarks).
    public var recordsBaseCommunicationRounds: Bool {
        get { baseReducer.recordsRoundTimes }
        set { baseReducer.recordsRoundTimes = newValue }
    }
    /// Per base step with a gradient all-reduce, since recording was switched on.
    public var baseCommunicationRounds: [ReductionRoundTime] { baseReducer.roundTimes }
    /// Time and bytes of the hypergradient all-reduces so far.
    public var metaCommunication: AllReduceStatistics { metaReducer.statistics }

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
        let batch = program.nextBaseBatch()
        let replayState = context.rng
        let loss = try baseUpdate(batch)
        let accumulation = configuration.gradientAccumulation
        emit(.baseStep(step: baseStep, loss: loss, learningRate: program.base.optimizer.learningRate))
        if configuration.method.learnsMeta, baseStep > configuration.warmupSteps,
            baseStep % (configuration.unroll * accumulation) == 0
        {
            let replay = ForwardContext(training: context.training, updatesRunningStatistics: false)
            replay.rng = replayState
            // The next base step replaces the optimizer's state for A, so the method may free it as it goes.
            _ = try metaUpdate(passes(lastBatch: batch, replayContext: replay, releasingAdaptationState: true))
        }
        if let evaluate, let interval = configuration.evaluationInterval, baseStep % interval == 0 {
            emit(.evaluation(step: baseStep, metrics: evaluate(baseStep)))
        }
        if let checkpoint, let interval = configuration.checkpointInterval, baseStep % interval == 0 {
            emit(.checkpoint(step: baseStep, path: try checkpoint(baseStep)))
        }
        if communicator.isDistributed, let interval = configuration.replicaCheckInterval, baseStep % interval == 0 {
            try verifyReplicas()
        }
    }

    /// The base part of `step()`: forward, backward and (at the end of an accumulation window) the optimizer
    /// step; returns the loss. The forward graph is freed on return, before a meta step allocates its own.
    private func baseUpdate(_ batch: Program.Batch) throws -> Float {
        let base = program.base
        let loss = phases.measure(.baseForward) { program.baseLoss(batch, context: context) }
        guard loss.item.isFinite else { throw EngineError.nonFiniteLoss(which: "base", step: baseStep + 1, value: loss.item) }
        // A of the last optimizer step is needed only by a meta step right after it: this step's optimizer step
        // replaces it, so free it (Adam: the last gradient) before backward allocates the new gradients.
        (base.optimizer as? any UpdateDerivative)?.releaseUpdateDerivativeState(base.parameters)
        baseStep += 1
        let accumulation = configuration.gradientAccumulation
        if baseStep % accumulation == 0 {
            let mean: [Tensor]
            if communicator.isDistributed {
                // Last micro-step of the window: reduce (accumulated + this gradient) / accumulation, bucket by
                // bucket while backward runs.
                baseReducer.begin(scale: 1 / Float(accumulation), addend: accumulatedGradients)
                let grads = phases.measure(.baseBackward) {
                    Autodiff.gradients(of: loss, wrt: base.tensors, onGradientReady: baseReducer.gradientReady)
                }
                mean = try baseReducer.finish(like: grads)
            } else {
                let grads = phases.measure(.baseBackward) { Autodiff.gradients(of: loss, wrt: base.tensors) }
                let total = accumulatedGradients.map { sum in withoutGrad { zip(sum, grads).map { $0 + $1 } } } ?? grads
                mean = accumulation == 1 ? total : withoutGrad { total.map { $0 * (1 / Float(accumulation)) } }
            }
            phases.measure(.baseOptimizer) {
                if let clip = configuration.clipNorm { clipGradients(mean, maxNorm: clip) }
                base.applySchedule(step: baseStep - 1)
                base.optimizer.step(base.parameters, gradients: mean)
            }
            // A byte per entry, not the gradient itself, which the optimizer may be holding (Adam, for A):
            // freeing that must free the memory.
            lastTouched = configuration.perturbTouchedParametersOnly ? mean.map(TouchedMask.init) : nil
            accumulatedGradients = nil
        } else {
            // Accumulation micro-step: no communication.
            let grads = phases.measure(.baseBackward) { Autodiff.gradients(of: loss, wrt: base.tensors) }
            accumulatedGradients = accumulatedGradients.map { sum in withoutGrad { zip(sum, grads).map { $0 + $1 } } } ?? grads
        }
        return loss.item
    }

    /// Computes the hypergradient on `lastBatch` and updates λ with the meta optimizer.
    /// Throws, leaving λ untouched, when the meta loss or the hypergradient is not finite.
    @discardableResult
    public func metaUpdate(lastBatch: Program.Batch, replayContext: ForwardContext) throws -> MetaStepResult {
        try requireAdaptationState()
        return try metaUpdate(passes(lastBatch: lastBatch, replayContext: replayContext, releasingAdaptationState: false))
    }

    private func metaUpdate(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { metaSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let result = try hypergradient(passes)
        let norm = Float(ParameterVectors.norm(result.hypergradient))
        guard !configuration.method.learnsMeta || (result.metaLoss.isFinite && norm.isFinite) else {
            throw EngineError.nonFiniteLoss(which: "meta", step: baseStep, value: result.metaLoss.isFinite ? norm : result.metaLoss)
        }
        let meta = program.meta
        phases.measure(.metaOptimizer) {
            meta.applySchedule(step: metaStep)
            meta.optimizer.step(meta.parameters, gradients: result.hypergradient)
        }
        metaStep += 1
        lastResult = result
        emit(
            .metaStep(
                step: baseStep, metaStep: metaStep, metaLoss: result.metaLoss,
                hypergradientNorm: norm))
        return result
    }

    /// The hypergradient dL_meta/dλ of the configured method (averaged over ranks), without updating λ.
    public func hypergradient(lastBatch: Program.Batch, replayContext: ForwardContext) throws -> MetaStepResult {
        try requireAdaptationState()
        return try hypergradient(passes(lastBatch: lastBatch, replayContext: replayContext, releasingAdaptationState: false))
    }

    /// Throws `adaptationStateReleased` when the method needs A and the base optimizer has freed it.
    private func requireAdaptationState() throws {
        guard configuration.method.usesAdaptation else { return }
        let optimizer = try program.base.updateDerivative()
        guard !optimizer.hasUpdateDerivativeState(program.base.parameters) else { return }
        throw EngineError.adaptationStateReleased(step: baseStep)
    }

    /// The passes of a meta step after the base step on `lastBatch`. `releasingAdaptationState`: the base
    /// optimizer's state for A may be freed as soon as the method is done with it (at once if it uses none).
    private func passes(
        lastBatch: Program.Batch, replayContext: ForwardContext,
        releasingAdaptationState: Bool
    ) -> MetaStepPasses<Program> {
        if releasingAdaptationState, !configuration.method.usesAdaptation {
            (program.base.optimizer as? any UpdateDerivative)?.releaseUpdateDerivativeState(program.base.parameters)
        }
        let metaContext = ForwardContext(
            training: context.training, updatesRunningStatistics: false,
            seed: configuration.seed &+ UInt64(metaStep) &+ 0x5A4D)
        return MetaStepPasses(
            program: program, lastBatch: lastBatch, replayContext: replayContext, metaContext: metaContext,
            lambdaReducer: communicator.isDistributed ? metaReducer : nil,
            touchedBy: lastTouched, streamBlockElements: configuration.metaGradientBlockElements,
            baseStep: baseStep, releasesAdaptationState: releasingAdaptationState, phases: phases)
    }

    /// The method's hypergradient, averaged over ranks if the method did not already do so.
    private func hypergradient(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        var result = try configuration.method.compute(passes)
        if communicator.isDistributed && !result.reduced {
            result.hypergradient = try metaReducer.reduce(result.hypergradient)
            result.reduced = true
        }
        return result
    }

    /// Sets the counters and the generator (checkpoint restore).
    func restoreCounters(baseStep: Int, metaStep: Int, rng: [UInt64]) {
        self.baseStep = baseStep
        self.metaStep = metaStep
        context.rng.state = rng
    }

    private func emit(_ event: EngineEvent) { for observer in observers { observer(event) } }
}
