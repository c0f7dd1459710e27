extension Autodiff {
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
        RowStreamedPass(output: output, targets: targets, streaming: streaming).run()
    }
}

/// The streamed variant of the backward walk: the same `BackwardWalk`, with row-blocked backwards for the leaf
/// targets that allow them and whole gradients handed to the consumer for the other streamed targets.
private final class RowStreamedPass {
    let walk: BackwardWalk
    let targets: [Tensor]
    let streaming: Autodiff.RowStreaming
    var results: [Tensor?]
    /// Streamed targets already delivered.
    var delivered = Set<Int>()
    /// Leaf targets consumed once, by a single input slot: computed block by block.
    var blockable = Set<ObjectIdentifier>()

    init(output: Tensor, targets: [Tensor], streaming: Autodiff.RowStreaming) {
        walk = BackwardWalk(output: output, targets: targets, seed: nil)
        self.targets = targets
        self.streaming = streaming
        results = [Tensor?](repeating: nil, count: targets.count)
        for index in streaming.targets where index < targets.count {
            let target = targets[index], id = ObjectIdentifier(target)
            // Blocks go to the target's first index (a repeat gets zeros, as in `gradients`).
            if target.node == nil, walk.consumerCount(of: target) == 1, walk.targetIndex[id] == index { blockable.insert(id) }
        }
    }

    func run() -> [Tensor?] {
        walk.run(createGraph: false, inputGradients: inputGradients) { index, tensor, grad, siblings in
            finish(index, tensor, grad, siblings: siblings)
        }
        for (index, target) in targets.enumerated() where results[index] == nil && !delivered.contains(index) {
            if walk.targetIndex[ObjectIdentifier(target)] == index, let grad = walk.gradient(of: target) {
                finish(index, target, grad, siblings: [])
            }
            // Not reached, or a repeat of an earlier target: zeros.
            if streaming.targets.contains(index), !delivered.contains(index) {
                deliverWhole(index, target, Tensor.zeros(target.shape), exclusive: true)
            }
        }
        return results.enumerated().map { index, grad in
            streaming.targets.contains(index) ? nil : grad ?? Tensor.zeros(targets[index].shape)
        }
    }

    /// A node's input gradients: row-blocked straight into the consumer for its blockable inputs, else whole.
    private func inputGradients(_ node: GraphNode, _ grad: Tensor, _ tensor: Tensor) -> [Tensor?] {
        let positions = node.inputs.indices.filter { position in
            let input = node.inputs[position]
            return blockable.contains(ObjectIdentifier(input)) && node.inputs.filter({ $0 === input }).count == 1
        }
        guard !positions.isEmpty, let rowBlocked = node.rowBlockedBackward else { return node.backward(grad, tensor) }
        let gradients = rowBlocked(grad, Set(positions), streaming.blockElements) { position, rows, values in
            streaming.consume(walk.targetIndex[ObjectIdentifier(node.inputs[position])]!, rows, values)
        }
        for position in positions { delivered.insert(walk.targetIndex[ObjectIdentifier(node.inputs[position])]!) }
        return gradients
    }

    private func finish(_ index: Int, _ tensor: Tensor, _ grad: Tensor, siblings: [Tensor?]) {
        guard !delivered.contains(index) else { return }
        if streaming.targets.contains(index) {
            // The consumer may overwrite the block: a copy when the pass may read this gradient again (an
            // intermediate target's flows on; a backward may hand one object to several inputs).
            let id = ObjectIdentifier(tensor)
            let shared =
                tensor.node != nil || grad === walk.rootSeed || siblings.filter({ $0 === grad }).count > 1
                || results.contains(where: { $0 === grad })
                || walk.gradients.contains(where: { $0.key != id && $0.value === grad })
            deliverWhole(index, tensor, grad, exclusive: !shared)
            if tensor.node == nil { walk.release(tensor) }
            return
        }
        if results[index] == nil { results[index] = grad }
    }

    /// Hands a complete gradient to the consumer as one block (a copy when the pass may read it again).
    private func deliverWhole(_ index: Int, _ tensor: Tensor, _ grad: Tensor, exclusive: Bool) {
        guard delivered.insert(index).inserted else { return }
        let owned = exclusive ? grad : grad.copy()
        owned.withUnsafeMutableBufferPointer { values in
            streaming.consume(index, 0..<(tensor.shape.first ?? 1), values)
        }
    }
}
