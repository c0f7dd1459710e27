/// The recorded operation that produced a tensor: its inputs and how to pull a gradient back to them.
///
/// The backward function receives the gradient of the output and the output itself (so functions like
/// `exp` can reuse their result without the node holding a strong reference to its own output). It
/// returns one gradient per input (nil where an input gets none) and is written with differentiable
/// tensor operations, so running it with recording on yields a graph of the gradient: double backward.
package final class GraphNode {
    package let name: StaticString
    package let inputs: [Tensor]
    package let backward: (_ gradOutput: Tensor, _ output: Tensor) -> [Tensor?]
    /// An optional backward that streams the gradients of some inputs in row blocks instead of returning them
    /// (see `RowBlockedBackward`); nil where the operation has none.
    package var rowBlockedBackward: RowBlockedBackward?

    package init(name: StaticString, inputs: [Tensor], backward: @escaping (Tensor, Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// A backward that hands the gradients of the inputs at `streamed` positions to `consume` in blocks of whole
/// rows (first axis), in increasing row order, each row exactly once, and returns the other inputs' gradients
/// as `backward` would (nil at the streamed positions). A block has at most `blockElements` elements (at
/// least one row) and is scratch memory the consumer may overwrite. Only for first-order passes: the blocks
/// are plain numbers, not recorded.
package typealias RowBlockedBackward = (
    _ gradOutput: Tensor, _ streamed: Set<Int>, _ blockElements: Int,
    _ consume: (_ position: Int, _ rows: Range<Int>, _ values: UnsafeMutableBufferPointer<Float>) -> Void
) -> [Tensor?]

extension Tensor {
    /// Attaches a backward function to `self` if recording is on and any input requires grad.
    @inline(__always)
    package func recorded(
        _ name: StaticString, _ inputs: [Tensor],
        rowBlocked: RowBlockedBackward? = nil,
        _ backward: @escaping (_ gradOutput: Tensor, _ output: Tensor) -> [Tensor?]
    ) -> Tensor {
        if GradMode.enabled, inputs.contains(where: { $0.requiresGrad }) {
            requiresGrad = true
            node = GraphNode(name: name, inputs: inputs, backward: backward)
            node?.rowBlockedBackward = rowBlocked
        }
        return self
    }
}
