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
        let results = gradients(
            of: output, wrt: targets, seed: seed, createGraph: createGraph, onGradientReady: onGradientReady,
            streaming: nil)
        return results.enumerated().map { index, grad in grad ?? Tensor.zeros(targets[index].shape) }
    }

    /// First-order gradients of a scalar `output`, with the targets at `streaming.targets` delivered to
    /// `streaming.consume` in blocks of whole rows instead of as tensors, so the whole gradient of a large
    /// weight need never exist: a consumer can fold it, block by block, into storage it already has.
    ///
    /// A streamed target's blocks come in increasing row order and cover each row exactly once (a target the
    /// output does not reach gets zeros); each block is scratch the consumer may overwrite and must not keep.
    /// A leaf target consumed once by an operation with a row-blocked backward (a matrix product: linear
    /// layers' weights) is computed block by block into one scratch buffer of `streaming.blockElements` elements
    /// (at least a row); any other target is computed whole and handed over as one block.
    /// - Returns: the gradients of the other targets (zeros where the output does not reach them).
    public static func gradients(of output: Tensor, wrt targets: [Tensor], streaming: RowStreaming) -> [Tensor?] {
        let results = gradients(
            of: output, wrt: targets, seed: nil, createGraph: false, onGradientReady: nil,
            streaming: streaming)
        return results.enumerated().map { index, grad in
            streaming.targets.contains(index) ? nil : grad ?? Tensor.zeros(targets[index].shape)
        }
    }

    private static func gradients(
        of output: Tensor, wrt targets: [Tensor], seed: Tensor?, createGraph: Bool,
        onGradientReady: ((Int, Tensor) -> Void)?, streaming: RowStreaming?
    ) -> [Tensor?] {
        precondition(streaming == nil || !createGraph, "streamed gradients are first-order only")
        if seed == nil {
            precondition(output.count == 1, "gradients(of:) needs a scalar output or a seed; output shape is \(output.shape)")
        }
        let targetIndex = Dictionary(
            targets.enumerated().map { (ObjectIdentifier($0.element), $0.offset) },
            uniquingKeysWith: { first, _ in first })
        let order = topologicalOrder(from: output, targets: targetIndex)
        // Number of pending consumers per needed tensor, to know when a target's gradient is complete.
        var pending: [ObjectIdentifier: Int] = [:]
        for tensor in order.tensors where order.needed.contains(ObjectIdentifier(tensor)) {
            guard let node = tensor.node else { continue }
            for input in node.inputs where order.needed.contains(ObjectIdentifier(input)) {
                pending[ObjectIdentifier(input), default: 0] += 1
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [:]
        var results = [Tensor?](repeating: nil, count: targets.count)
        let rootSeed = seed ?? Tensor.ones(output.shape)
        grads[ObjectIdentifier(output)] = rootSeed

        // Streamed targets that can be computed block by block: leaves consumed once, by a single input slot.
        var streamedDone = Set<Int>()
        var blockable = Set<ObjectIdentifier>()
        if let streaming {
            for index in streaming.targets where index < targets.count {
                let target = targets[index], id = ObjectIdentifier(target)
                // Blocks go to the target's first index (a repeat gets zeros, as in `gradients`).
                if target.node == nil, pending[id] == 1, targetIndex[id] == index { blockable.insert(id) }
            }
        }
        /// Hands a complete gradient to the streaming consumer as one block (a copy when the pass may read it again).
        func streamWhole(_ index: Int, _ tensor: Tensor, _ grad: Tensor, exclusive: Bool) {
            guard let streaming, streamedDone.insert(index).inserted else { return }
            let owned = exclusive ? grad : grad.copy()
            owned.withUnsafeMutableBufferPointer { values in
                streaming.consume(index, 0..<(tensor.shape.first ?? 1), values)
            }
        }

        func finish(_ tensor: Tensor, _ grad: Tensor, siblings: [Tensor?] = []) {
            let id = ObjectIdentifier(tensor)
            guard let index = targetIndex[id] else { return }
            if streaming?.targets.contains(index) == true {
                // The consumer may overwrite the block: a copy when the pass may read this gradient again (an
                // intermediate target's flows on; a backward may hand one object to several inputs).
                let shared =
                    tensor.node != nil || grad === rootSeed || siblings.filter({ $0 === grad }).count > 1
                    || results.contains(where: { $0 === grad }) || grads.contains(where: { $0.key != id && $0.value === grad })
                streamWhole(index, tensor, grad, exclusive: !shared)
                if tensor.node == nil { grads[id] = nil }
                return
            }
            if results[index] == nil {
                results[index] = grad
                onGradientReady?(index, grad)
            }
        }

        GradMode.with(recording: createGraph) {
            if order.needed.contains(ObjectIdentifier(output)), pending[ObjectIdentifier(output)] == nil,
                targetIndex[ObjectIdentifier(output)] != nil
            {
                finish(output, rootSeed)
            }
            for tensor in order.tensors.reversed() {
                let id = ObjectIdentifier(tensor)
                guard order.needed.contains(id), let node = tensor.node else { continue }
                let inputGrads: [Tensor?]
                if let grad = grads[id] {
                    if targetIndex[id] == nil { grads[id] = nil }  // free intermediate gradients early
                    let streamedPositions =
                        blockable.isEmpty
                        ? []
                        : node.inputs.indices.filter { position in
                            let inputID = ObjectIdentifier(node.inputs[position])
                            return blockable.contains(inputID) && node.inputs.filter({ $0 === node.inputs[position] }).count == 1
                        }
                    if let streaming, !streamedPositions.isEmpty, let rowBlocked = node.rowBlockedBackward {
                        inputGrads = rowBlocked(grad, Set(streamedPositions), streaming.blockElements) { position, rows, values in
                            streaming.consume(targetIndex[ObjectIdentifier(node.inputs[position])]!, rows, values)
                        }
                        for position in streamedPositions { streamedDone.insert(targetIndex[ObjectIdentifier(node.inputs[position])]!) }
                    } else {
                        inputGrads = node.backward(grad, tensor)
                    }
                } else {
                    inputGrads = [Tensor?](repeating: nil, count: node.inputs.count)
                }
                precondition(
                    inputGrads.count == node.inputs.count,
                    "backward of \(node.name) returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
                for (input, inputGrad) in zip(node.inputs, inputGrads) {
                    let inputID = ObjectIdentifier(input)
                    guard order.needed.contains(inputID) else { continue }
                    if let inputGrad {
                        precondition(
                            inputGrad.shape == input.shape,
                            "backward of \(node.name) gave gradient \(inputGrad.shape) for input \(input.shape)")
                        if let existing = grads[inputID] { grads[inputID] = existing + inputGrad } else { grads[inputID] = inputGrad }
                    }
                    pending[inputID, default: 1] -= 1
                    if pending[inputID] == 0, let index = targetIndex[inputID], !streamedDone.contains(index) {
                        finish(input, grads[inputID] ?? Tensor.zeros(input.shape), siblings: inputGrads)
                    }
                }
            }
        }
        for (index, target) in targets.enumerated() where results[index] == nil && !streamedDone.contains(index) {
            if let grad = grads[ObjectIdentifier(target)] { finish(target, grad) }
            // Not reached, or a repeat of an earlier target (which gets the gradient, as in `gradients`): zeros.
            if streaming?.targets.contains(index) == true, !streamedDone.contains(index) {
                streamWhole(index, target, Tensor.zeros(target.shape), exclusive: true)
            }
        }
        return results
    }

    /// Which targets `gradients(of:wrt:streaming:)` streams in row blocks, the largest block, and the consumer:
    /// `consume(target index, rows, values)`, values row-major for those rows of the target.
    public struct RowStreaming {
        public var targets: Set<Int>
        public var blockElements: Int
        public var consume: (_ target: Int, _ rows: Range<Int>, _ values: UnsafeMutableBufferPointer<Float>) -> Void

        public init(
            targets: Set<Int>, blockElements: Int = 1 << 18,
            consume: @escaping (_ target: Int, _ rows: Range<Int>, _ values: UnsafeMutableBufferPointer<Float>) -> Void
        ) {
            precondition(blockElements > 0, "RowStreaming needs a positive block size")
            self.targets = targets
            self.blockElements = blockElements
            self.consume = consume
        }
    }

    /// Tensors reachable from `output` in post-order, and the subset through which a target is reachable.
    private static func topologicalOrder(
        from output: Tensor, targets: [ObjectIdentifier: Int]
    )
        -> (tensors: [Tensor], needed: Set<ObjectIdentifier>)
    {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var needed = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(output, false)]
        while let (tensor, expanded) = stack.popLast() {
            let id = ObjectIdentifier(tensor)
            if expanded {
                var isNeeded = targets[id] != nil
                if let node = tensor.node, node.inputs.contains(where: { needed.contains(ObjectIdentifier($0)) }) {
                    isNeeded = true
                }
                if isNeeded { needed.insert(id) }
                order.append(tensor)
                continue
            }
            guard visited.insert(id).inserted else { continue }
            stack.append((tensor, true))
            if let node = tensor.node {
                for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        return (order, needed)
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
