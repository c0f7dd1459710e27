import Tensors

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay
/// (PyTorch's conventions: buf = μ·buf + g; u = γ·(g + μ·buf) with Nesterov, else γ·buf).
public final class SGD: UpdateDerivative {
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public private(set) var stepCount = 0
    private var store = SlotStore()
    private var shapes: [String: [Int]] = [:]

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(learningRate >= 0, "SGD learning rate must be ≥ 0, got \(learningRate)")
        precondition(momentum >= 0 && momentum < 1, "SGD momentum must be in [0, 1), got \(momentum)")
        precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        precondition(weightDecay >= 0, "SGD weight decay must be ≥ 0, got \(weightDecay)")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [NamedParameter], gradients: [Tensor]) {
        precondition(parameters.count == gradients.count, "SGD: \(parameters.count) parameters, \(gradients.count) gradients")
        stepCount += 1
        let (lr, mu, wd, first) = (learningRate, momentum, weightDecay, stepCount == 1)
        for ((key, param), grad) in zip(parameters, gradients) {
            precondition(param.shape == grad.shape, "SGD: gradient \(grad.shape) for parameter \(key) \(param.shape)")
            shapes["\(key).momentum_buffer"] = param.shape
            let isFirst = first || store.slots["\(key).momentum_buffer"] == nil
            var buffer = mu > 0 ? store.take(key, "momentum_buffer", count: param.count) : []
            // Three branch-free loops over raw buffers (the compiler vectorises them); indexing the Swift array
            // inside the closure instead cost more than the matrix products of a small MLP's step.
            grad.withUnsafeBufferPointer { g in
                param.withUnsafeMutableBufferPointer { p in
                    guard mu > 0 else {
                        for i in 0..<p.count { p[i] -= lr * (g[i] + wd * p[i]) }
                        return
                    }
                    buffer.withUnsafeMutableBufferPointer { b in
                        if isFirst {
                            for i in 0..<p.count { b[i] = g[i] + wd * p[i] }
                        } else {
                            for i in 0..<p.count { b[i] = mu * b[i] + (g[i] + wd * p[i]) }
                        }
                        if nesterov {
                            for i in 0..<p.count { p[i] -= lr * ((g[i] + wd * p[i]) + mu * b[i]) }
                        } else {
                            for i in 0..<p.count { p[i] -= lr * b[i] }
                        }
                    }
                }
            }
            if mu > 0 { store.slots["\(key).momentum_buffer"] = buffer }
        }
    }

    /// ∂u/∂g = γ (plain or heavy-ball momentum: the buffer's gradient coefficient is 1) or γ·(1+μ) (Nesterov).
    /// Unlike Betty, γ is kept: ε·v in SAMA is invariant to it, and it makes A an honest derivative.
    public func updateDerivative(_ parameters: [NamedParameter]) -> [Tensor] {
        precondition(stepCount > 0, "updateDerivative needs a step first")
        let value = learningRate * (nesterov ? 1 + momentum : 1)
        return parameters.map { Tensor(repeating: value, shape: $0.tensor.shape) }
    }

    public func stateDictionary() -> [String: Tensor] {
        var state = store.tensors(shapes: shapes)
        state["__step"] = Tensor(Float(stepCount))
        return state
    }

    public func loadState(_ state: [String: Tensor], parameters: [NamedParameter]) throws {
        guard let step = state["__step"] else { throw OptimizerError.missingState("__step") }
        store = try SlotStore.restore(state, parameters: parameters, slotNames: momentum > 0 ? ["momentum_buffer"] : [])
        for (key, tensor) in parameters { shapes["\(key).momentum_buffer"] = tensor.shape }
        stepCount = Int(step.item)
    }
}
