import MetaLearning
import Tensors

/// Splits the matrix-product operations (`FLOPCounter`) of an engine's steps into base steps and meta steps, from
/// the engine's events: a base step's work ends at its `.baseStep` event, the meta step that follows it ends at
/// `.metaStep`; work between other events (evaluations, checkpoints, observers) is left out.
public final class StepFLOPs {
    public private(set) var baseFLOPs = 0, metaFLOPs = 0, baseSteps = 0, metaSteps = 0
    private var mark = FLOPCounter.total

    public init() {}

    /// Observes `engine` from now on (its steps must run on this thread).
    public func attach<Program>(to engine: Engine<Program>) {
        mark = FLOPCounter.total
        engine.observe { [self] event in
            let now = FLOPCounter.total
            switch event {
            case .baseStep:
                baseFLOPs += now - mark
                baseSteps += 1
            case .metaStep:
                metaFLOPs += now - mark
                metaSteps += 1
            default:
                break
            }
            mark = FLOPCounter.total
        }
    }

    /// Mean operations of a base step (0 before the first).
    public var perBaseStep: Double { baseSteps > 0 ? Double(baseFLOPs) / Double(baseSteps) : 0 }
    /// Mean operations of a meta step (nil before the first).
    public var perMetaStep: Double? { metaSteps > 0 ? Double(metaFLOPs) / Double(metaSteps) : nil }
}
