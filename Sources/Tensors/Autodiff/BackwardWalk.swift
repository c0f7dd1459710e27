/// One reverse pass over the recorded graph from `output` to `targets`: the walk both `Autodiff.gradients`
/// variants share. It visits the tensors through which a target is reachable in reverse topological order,
/// asks `inputGradients` for the gradients a node passes to its inputs, sums them per input, frees an
/// intermediate gradient as soon as its node has used it, and calls `completed` once per target (its first index in
/// `targets`) as soon as every consumer of that target has contributed.
final class BackwardWalk {
    let targets: [Tensor]
    /// The first index of each target tensor in `targets`.
    let targetIndex: [ObjectIdentifier: Int]
    /// The gradient the walk starts from: `seed`, or ones for a scalar output.
    let rootSeed: Tensor
    /// Gradients accumulated so far (intermediate ones are dropped once used).
    private(set) var gradients: [ObjectIdentifier: Tensor] = [:]
    private let output: Tensor
    private let order: (tensors: [Tensor], needed: Set<ObjectIdentifier>)
    /// Consumers still to contribute, per needed tensor.
    private(set) var pending: [ObjectIdentifier: Int] = [:]

    init(output: Tensor, targets: [Tensor], seed: Tensor?) {
        if seed == nil {
            precondition(output.count == 1, "gradients(of:) needs a scalar output or a seed; output shape is \(output.shape)")
        }
        self.output = output
        self.targets = targets
        targetIndex = Dictionary(
            targets.enumerated().map { (ObjectIdentifier($0.element), $0.offset) },
            uniquingKeysWith: { first, _ in first })
        order = Self.topologicalOrder(from: output, targets: targetIndex)
        for tensor in order.tensors where order.needed.contains(ObjectIdentifier(tensor)) {
            guard let node = tensor.node else { continue }
            for input in node.inputs where order.needed.contains(ObjectIdentifier(input)) {
                pending[ObjectIdentifier(input), default: 0] += 1
            }
        }
        rootSeed = seed ?? Tensor.ones(output.shape)
        gradients[ObjectIdentifier(output)] = rootSeed
    }

    /// The accumulated gradient of `tensor`, if it has one.
    func gradient(of tensor: Tensor) -> Tensor? { gradients[ObjectIdentifier(tensor)] }

    /// Forgets the gradient of `tensor` (a consumer that took it over).
    func release(_ tensor: Tensor) { gradients[ObjectIdentifier(tensor)] = nil }

    /// How many consumers of `tensor` the graph has (1 for a leaf used once).
    func consumerCount(of tensor: Tensor) -> Int { pending[ObjectIdentifier(tensor)] ?? 0 }

    /// Walks the graph. `inputGradients(node, gradient, tensor)` returns one gradient (or nil) per input of
    /// `tensor`'s node; `completed(index, target, gradient, siblings)` receives each target's complete gradient with
    /// the other gradients the same backward returned (`siblings`, to tell whether one object went to two inputs).
    func run(
        createGraph: Bool,
        inputGradients: (GraphNode, Tensor, Tensor) -> [Tensor?],
        completed: (Int, Tensor, Tensor, [Tensor?]) -> Void
    ) {
        GradMode.with(recording: createGraph) {
            let outputID = ObjectIdentifier(output)
            if order.needed.contains(outputID), pending[outputID] == nil, let index = targetIndex[outputID] {
                completed(index, output, rootSeed, [])
            }
            for tensor in order.tensors.reversed() {
                let id = ObjectIdentifier(tensor)
                guard order.needed.contains(id), let node = tensor.node else { continue }
                let inputGrads: [Tensor?]
                if let grad = gradients[id] {
                    if targetIndex[id] == nil { gradients[id] = nil }  // free intermediate gradients early
                    inputGrads = inputGradients(node, grad, tensor)
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
                        if let existing = gradients[inputID] {
                            gradients[inputID] = existing + inputGrad
                        } else {
                            gradients[inputID] = inputGrad
                        }
                    }
                    pending[inputID, default: 1] -= 1
                    if pending[inputID] == 0, let index = targetIndex[inputID] {
                        completed(index, input, gradients[inputID] ?? Tensor.zeros(input.shape), inputGrads)
                    }
                }
            }
        }
    }

    /// Tensors reachable from `output` in post-order, and the subset through which a target is reachable.
    private static func topologicalOrder(
        from output: Tensor, targets: [ObjectIdentifier: Int]
    ) -> (tensors: [Tensor], needed: Set<ObjectIdentifier>) {
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
