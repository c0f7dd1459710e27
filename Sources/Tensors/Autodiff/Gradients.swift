/// Reverse-mode differentiation over the recorded graph.
public enum Autodiff {
    /// Gradients of `output` with respect to each tensor in `targets`.
    ///
    /// - Parameters:
    ///   - seed: the gradient of the output (defaults to ones; `output` must then be a scalar).
    ///   - createGraph: record the backward pass itself so the returned gradients can be differentiated
    ///     again (Hessian-vector and mixed products). Off by default: first-order gradients record nothing.
    ///   - onGradientReady: called once per target, as soon as its gradient is complete during the
    ///     backward pass (before the pass ends), with the target's index; used to overlap communication.
    ///     The tensor may still be read by the rest of the pass: the callback must not modify it.
    /// - Returns: one gradient per target, zeros for targets the output does not depend on.
    public static func gradients(
        of output: Tensor, wrt targets: [Tensor], seed: Tensor? = nil,
        createGraph: Bool = false,
        onGradientReady: ((Int, Tensor) -> Void)? = nil
    ) -> [Tensor] {
        let walk = BackwardWalk(output: output, targets: targets, seed: seed)
        var results = [Tensor?](repeating: nil, count: targets.count)
        func finish(_ index: Int, _ grad: Tensor) {
            guard results[index] == nil else { return }
            results[index] = grad
            onGradientReady?(index, grad)
        }
        walk.run(createGraph: createGraph, inputGradients: { node, grad, tensor in node.backward(grad, tensor) }) { index, _, grad, _ in
            finish(index, grad)
        }
        // A target whose last consumer was never visited still has its sum; a repeat of an earlier target and one
        // the output does not reach get zeros.
        for (index, target) in targets.enumerated() where results[index] == nil && walk.targetIndex[ObjectIdentifier(target)] == index {
            if let grad = walk.gradient(of: target) { finish(index, grad) }
        }
        return results.enumerated().map { index, grad in grad ?? Tensor.zeros(targets[index].shape) }
    }
}

extension Tensor {
    /// Accumulates d(self)/d(leaf) into `grad` of every leaf that requires grad (gradient accumulation).
    /// `self` must be a scalar. With `createGraph`, the stored gradients are themselves differentiable.
    public func backward(createGraph: Bool = false) {
        let leaves = leafParameters()
        let grads = Autodiff.gradients(of: self, wrt: leaves, createGraph: createGraph)
        for (leaf, grad) in zip(leaves, grads) {
            if let existing = leaf.grad {
                leaf.grad = createGraph ? existing + grad : GradMode.withoutGrad { existing + grad }
            } else {
                leaf.grad = grad
            }
        }
    }

    /// The leaf tensors requiring grad that this tensor depends on, in discovery order.
    public func leafParameters() -> [Tensor] {
        var leaves: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack = [self]
        while let tensor = stack.popLast() {
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            if let node = tensor.node {
                stack.append(contentsOf: node.inputs.filter { $0.requiresGrad })
            } else if tensor.requiresGrad {
                leaves.append(tensor)
            }
        }
        return leaves
    }
}
