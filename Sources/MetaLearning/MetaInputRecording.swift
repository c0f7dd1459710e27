import NeuralNetworks
import Tensors

extension ForwardContext {
    /// `value` as a meta net must see it: detached from θ (docs/ALGORITHMS.md §2). A finite difference in θ would
    /// still see a detached input move with θ, which the stop-gradient excludes; so while a `MetaInputRecording`
    /// is recording (`inputReplay`), the values are kept, and while it replays, the values recorded at the same
    /// position are returned instead, so that both perturbed passes feed the meta nets the same inputs.
    public func metaInput(_ value: Tensor) -> Tensor {
        let detached = value.detached()
        return inputReplay?.next(detached) ?? detached
    }
}

/// Meta-net inputs of one forward pass, recorded and then replayed in the same order (see
/// `ForwardContext.metaInput`).
public final class MetaInputRecording: InputReplay, @unchecked Sendable {
    private var values: [Tensor] = []
    private var replaying = false
    private var cursor = 0

    public init() {}

    /// From now on, `next` returns the recorded values in order.
    public func startReplay() {
        replaying = true
        cursor = 0
    }

    /// Records `value` (already detached), or returns the value recorded at the same position while replaying.
    public func next(_ value: Tensor) -> Tensor {
        guard replaying else {
            values.append(value)
            return value
        }
        precondition(cursor < values.count, "meta input \(cursor) was not recorded: the replayed pass asks for more inputs")
        let recorded = values[cursor]
        precondition(recorded.shape == value.shape, "meta input \(cursor): recorded shape \(recorded.shape), replayed \(value.shape)")
        cursor += 1
        return recorded
    }
}
