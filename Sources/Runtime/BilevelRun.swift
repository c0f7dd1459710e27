import Foundation
import MetaLearning
import Recipes
import ResultStore

/// What the shared run loop tells an application while it trains. `BilevelRun.onEvent` receives these and
/// answers whether to go on (early stopping, a test that stops a run part way).
public enum BilevelRunEvent: Sendable {
    /// A base step finished with this loss.
    case baseStep(step: Int, loss: Float)
    /// A meta step finished.
    case metaStep(step: Int, metaStep: Int, metaLoss: Float)
    /// An epoch ended and its metrics were recorded.
    case epochEnd(epoch: Int, metrics: [String: Double])
}

/// Whether the run loop goes on after an event.
public enum BilevelRunControl: Sendable {
    case proceed
    /// End the run after this step (or epoch): the application summarises what it has.
    case stop
}

/// The epoch loop every bilevel application shares: resume from the run's checkpoint, base and meta steps
/// through the engine, per-epoch train and meta losses, the application's evaluation and recording, metrics
/// recorded in the store, a resumable checkpoint after every epoch but the last, and progress on screen.
///
/// An application builds its data, model and `BilevelProgram`, makes a `BilevelRun`, and passes `run` a
/// closure for what happens at the end of each epoch (evaluate, record per-sample values) returning that
/// epoch's metrics. Per-sample values a rank sees in its shards are collected with `SampleMeans`.
public final class BilevelRun<Program: ResumableProgram> {
    public let context: RunContext
    public let engine: Engine<Program>
    public let epochs: Int
    public let stepsPerEpoch: Int
    /// Sees every event; `.stop` ends the run early.
    public var onEvent: ((BilevelRunEvent) -> BilevelRunControl)?
    /// The epoch the loop stopped after, if `onEvent` stopped it.
    public private(set) var stoppedAfterEpoch: Int?
    private var stopRequested = false
    private var epochLoss = 0.0, epochSteps = 0, epochMetaLoss = 0.0, epochMetaSteps = 0
    /// The engine's phase clock when the epoch started.
    private var phaseSecondsAtEpochStart: [StepPhase: Double] = [:]

    /// - Parameters:
    ///   - configuration: the engine's settings (`MetaSettings.engineConfiguration(seed:)` plus any
    ///     application-specific ones).
    ///   - stepsPerEpoch: base steps per epoch (global batches).
    public init(
        program: Program, configuration: Engine<Program>.Configuration, context: RunContext,
        epochs: Int, stepsPerEpoch: Int
    ) {
        precondition(epochs >= 1 && stepsPerEpoch >= 1, "BilevelRun needs epochs ≥ 1 and stepsPerEpoch ≥ 1")
        self.context = context
        self.epochs = epochs
        self.stepsPerEpoch = stepsPerEpoch
        engine = Engine(program: program, configuration: configuration, communicator: context.communicator)
        engine.observe { [unowned self] event in
            switch event {
            case let .baseStep(step, loss, _):
                epochLoss += Double(loss); epochSteps += 1
                context.progress.update(completed: step, metrics: ["loss": epochLoss / Double(epochSteps)])
                if onEvent?(.baseStep(step: step, loss: loss)) == .stop { stopRequested = true }
            case let .metaStep(step, metaStep, metaLoss, _):
                epochMetaLoss += Double(metaLoss); epochMetaSteps += 1
                if onEvent?(.metaStep(step: step, metaStep: metaStep, metaLoss: metaLoss)) == .stop { stopRequested = true }
            default: break
            }
        }
    }

    public var program: Program { engine.program }
    public var totalSteps: Int { epochs * stepsPerEpoch }

    /// Meta steps the run will take: base steps past the warm-up that end an unroll window.
    public var plannedMetaSteps: Int {
        let c = engine.configuration
        guard c.method.learnsMeta else { return 0 }
        let window = c.unroll * c.gradientAccumulation
        return max(0, totalSteps / window - min(c.warmupSteps, totalSteps) / window)
    }

    /// A warning when a meta-learning method would take no meta step at all (unroll or warm-up beyond the run).
    var metaStepWarning: String? {
        let c = engine.configuration
        guard c.method.learnsMeta, plannedMetaSteps == 0 else { return nil }
        return "warning: \(c.method) takes no meta step in this run: \(totalSteps) base steps, meta.unroll \(c.unroll), "
            + "meta.warmup_steps \(c.warmupSteps); the meta nets stay as initialised"
    }

    /// Runs the remaining epochs. `epochEnd(epoch)` evaluates and records what the application keeps; its
    /// metrics join `train_loss` (mean base loss of the epoch), `meta_loss` (mean over its meta steps), the
    /// epoch's base and meta steps (`epoch_base_steps`, `epoch_meta_steps`) and the seconds of each training phase
    /// on this rank (`phase_seconds.*`, `StepPhase.metricName`), and are recorded at step `epoch`. Returns the
    /// last epoch's metrics.
    @discardableResult
    public func run(title: String, epochEnd: (Int) throws -> [String: Double]) throws -> [String: Double] {
        var firstEpoch = 1
        if let checkpoint = context.resumeFrom, let path = checkpoint.path {
            try engine.loadCheckpoint(from: URL(fileURLWithPath: path))
            firstEpoch = checkpoint.step + 1
        }
        if let warning = metaStepWarning { try context.report(.message(warning)) }
        context.progress.start(title, total: totalSteps)
        var metrics: [String: Double] = [:]
        for epoch in stride(from: firstEpoch, through: epochs, by: 1) {
            while engine.baseStep < epoch * stepsPerEpoch, !stopRequested { try engine.step() }
            metrics = ["train_loss": epochLoss / Double(max(epochSteps, 1))]
            if epochMetaSteps > 0 { metrics["meta_loss"] = epochMetaLoss / Double(epochMetaSteps) }
            metrics.merge(epochTimes()) { $1 }
            metrics.merge(try epochEnd(epoch)) { _, application in application }
            try context.report(.evaluation(step: epoch, metrics: metrics))
            if onEvent?(.epochEnd(epoch: epoch, metrics: metrics)) == .stop { stopRequested = true }
            if stopRequested {
                stoppedAfterEpoch = epoch
                context.progress.log("stopped after epoch \(epoch) of \(epochs) (base step \(engine.baseStep))")
                break
            }
            // Everything of this epoch is recorded: a run that fails later resumes from here.
            if epoch < epochs { try context.saveCheckpoint(step: epoch) { try engine.saveCheckpoint(to: $0) } }
            epochLoss = 0; epochSteps = 0; epochMetaLoss = 0; epochMetaSteps = 0
        }
        context.progress.finish()
        return metrics
    }

    /// The epoch's step counts and seconds per phase (from the engine's clock), and the clock restarted for the next.
    private func epochTimes() -> [String: Double] {
        var times = [EpochBookkeeping.baseSteps: Double(epochSteps), EpochBookkeeping.metaSteps: Double(epochMetaSteps)]
        let now = engine.phases.seconds
        for (phase, seconds) in now {
            times[phase.metricName] = seconds - phaseSecondsAtEpochStart[phase, default: 0]
        }
        phaseSecondsAtEpochStart = now
        return times
    }
}

/// The per-epoch metrics `BilevelRun` adds for reading where time goes: the epoch's base and meta steps and the seconds
/// of each training phase. Reports show them as a table, not as curves.
public enum EpochBookkeeping {
    public static let baseSteps = "epoch_base_steps"
    public static let metaSteps = "epoch_meta_steps"

    /// Whether `name` is one of them.
    public static func contains(_ name: String) -> Bool {
        name == baseSteps || name == metaSteps || name.hasPrefix(StepPhase.metricPrefix)
    }
}

/// Per-sample means of values seen during an epoch (for example the weight each training sample got in the
/// base steps that drew it). Each rank adds what its shards saw; `gather` collects the union on rank 0.
public struct SampleMeans: Sendable {
    private var sums: [Double]
    private var counts: [Int]

    public init(count: Int) {
        sums = Array(repeating: 0, count: count)
        counts = Array(repeating: 0, count: count)
    }

    public mutating func add(indices: [Int], values: [Float]) {
        precondition(indices.count == values.count, "SampleMeans: \(indices.count) indices for \(values.count) values")
        for (i, v) in zip(indices, values) { sums[i] += Double(v); counts[i] += 1 }
    }

    /// The samples seen so far on this rank and their means.
    public var seen: (indices: [Int], means: [Float]) {
        let indices = counts.indices.filter { counts[$0] > 0 }
        return (indices, indices.map { Float(sums[$0] / Double(counts[$0])) })
    }

    /// ``seen`` with the number of values behind each mean.
    public var seenWithCounts: (indices: [Int], means: [Float], counts: [Int]) {
        let (indices, means) = seen
        return (indices, means, indices.map { counts[$0] })
    }

    /// Every rank's means gathered on rank 0, in sample order (nil on the other ranks).
    public func gather(_ context: RunContext) throws -> [(index: Int, value: Float)]? {
        let (indices, means) = seen
        return try context.gatherSamples(indices: indices, values: means)
    }

    /// Starts over (a new epoch).
    public mutating func reset() {
        for i in sums.indices { sums[i] = 0; counts[i] = 0 }
    }
}
