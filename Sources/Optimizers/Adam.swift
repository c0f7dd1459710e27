import CKernels
import Foundation
import Tensors

/// Adam and AdamW with bias correction (PyTorch's formulas):
/// m = β1·m + (1−β1)·g, s = β2·s + (1−β2)·g², u = γ·m̂/(√ŝ + ε), m̂ = m/(1−β1ᵗ), ŝ = s/(1−β2ᵗ).
/// `decoupledWeightDecay` (AdamW) shrinks θ by γ·λ before the update; otherwise λ·θ is added to g (L2).
public final class Adam: UpdateDerivative {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    public private(set) var stepCount = 0
    private var store = SlotStore()
    private var shapes: [String: [Int]] = [:]
    /// The (weight-decay-adjusted) gradient of the last step, needed by `updateDerivative`. Without L2
    /// weight decay it is the caller's gradient tensor itself (kept by reference, not copied).
    private var lastGradients: [String: Tensor] = [:]

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) {
        precondition(learningRate >= 0, "Adam learning rate must be ≥ 0, got \(learningRate)")
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must be in [0, 1), got \(beta1), \(beta2)")
        precondition(epsilon > 0, "Adam epsilon must be > 0, got \(epsilon)")
        precondition(weightDecay >= 0, "Adam weight decay must be ≥ 0, got \(weightDecay)")
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW: Adam with decoupled weight decay (default λ = 0.01 as in PyTorch).
    public static func adamW(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0.01
    ) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step(_ parameters: [NamedParameter], gradients: [Tensor]) {
        precondition(parameters.count == gradients.count, "Adam: \(parameters.count) parameters, \(gradients.count) gradients")
        stepCount += 1
        let (lr, b1, b2, eps, wd) = (learningRate, beta1, beta2, epsilon, weightDecay)
        let c1 = 1 - Foundation.pow(b1, Float(stepCount)), c2 = 1 - Foundation.pow(b2, Float(stepCount))
        let stepSize = lr / c1, rootC2 = c2.squareRoot()
        let decoupled = decoupledWeightDecay
        for ((key, param), grad) in zip(parameters, gradients) {
            precondition(param.shape == grad.shape, "Adam: gradient \(grad.shape) for parameter \(key) \(param.shape)")
            shapes["\(key).exp_avg"] = param.shape
            shapes["\(key).exp_avg_sq"] = param.shape
            var m = store.take(key, "exp_avg", count: param.count)
            var s = store.take(key, "exp_avg_sq", count: param.count)
            let keepsEffective = !decoupled && wd != 0
            var effective = keepsEffective ? [Float](repeating: 0, count: param.count) : []
            m.withUnsafeMutableBufferPointer { m in
                s.withUnsafeMutableBufferPointer { s in
                    effective.withUnsafeMutableBufferPointer { e in
                        grad.withUnsafeBufferPointer { g in
                            param.withUnsafeMutableBufferPointer { p in
                                if keepsEffective, let e = e.baseAddress {
                                    for i in 0..<p.count { e[i] = g[i] + wd * p[i] }
                                }
                                // Elementwise, so split over the kernel threads with the same bits.
                                KernelThreads.forEachRange(p.count) { range in
                                    let start = range.lowerBound
                                    winnow_adam_step(
                                        p.baseAddress! + start, g.baseAddress! + start, m.baseAddress! + start,
                                        s.baseAddress! + start, range.count, b1, b2, eps, decoupled ? 1 - lr * wd : 1,
                                        decoupled ? 0 : wd, stepSize, 1 / rootC2)
                                }
                            }
                        }
                    }
                }
            }
            store.slots["\(key).exp_avg"] = m
            store.slots["\(key).exp_avg_sq"] = s
            lastGradients[key] = keepsEffective ? Tensor(shape: param.shape, storage: effective) : grad
        }
    }

    /// The exact diagonal ∂u/∂g of the last step. With ε' = ε·√(1−β2ᵗ) and k = γ·√(1−β2ᵗ)/(1−β1ᵗ),
    /// u = k·m/(√s + ε') and
    ///     ∂u/∂g = k·[(1−β1)·(√s + ε') − m·(1−β2)·g/√s] / (√s + ε')².
    /// For ε → 0 this is k·[(1−β1)·β2·s' − β1·(1−β2)·g·m'] / (√s)³, the formula of docs/ALGORITHMS.md §3
    /// (primes: state before the step). Unlike Betty, the bias-correction factor is included.
    public func updateDerivative(_ parameters: [NamedParameter]) -> [Tensor] {
        let (k, epsPrime) = derivativeConstants()
        return parameters.map { key, tensor in
            guard let (g, m, s) = lastStepState(key) else {
                return Tensor(repeating: untouchedDerivative(k: k, epsPrime: epsPrime), shape: tensor.shape)
            }
            return Tensor(
                shape: tensor.shape,
                storage: [Float](unsafeUninitializedCapacity: tensor.count) { out, initialized in
                    g.withUnsafeBufferPointer { g in
                        m.withUnsafeBufferPointer { m in
                            s.withUnsafeBufferPointer { s in
                                winnow_adam_derivative(
                                    out.baseAddress!, g.baseAddress!, m.baseAddress!, s.baseAddress!, out.count,
                                    k, beta1, beta2, epsPrime)
                            }
                        }
                    }
                    initialized = tensor.count
                })
        }
    }

    /// A ⊙ x in one pass per block, without materialising A: each entry's A is computed from the last
    /// gradient's entry and written over it (`winnow_adam_adapt_over_gradient`). With `releasingState` and no
    /// other reference to that gradient, v is built in its own buffer, so building v allocates nothing
    /// parameter-sized (unless the buffer's storage is shared copy-on-write with another tensor, which the first
    /// write then copies); otherwise v goes into a copy of it and the gradient stays intact.
    public func adaptedVectorBuilder(for parameter: NamedParameter, releasingState: Bool) -> AdaptedVectorBuilder {
        let key = parameter.key
        let (k, epsPrime) = derivativeConstants()
        let (beta1, beta2) = (self.beta1, self.beta2)
        let release: (Tensor) -> Void = { [self] _ in if releasingState { releaseUpdateDerivativeState([parameter]) } }
        // The gradient object may be reused only if nothing outside Adam refers to it.
        var reusable = false
        if releasingState, var held = lastGradients.removeValue(forKey: key) {
            reusable = isKnownUniquelyReferenced(&held)
            lastGradients[key] = held
        }
        guard let (g, m, s) = lastStepState(key) else {
            let untouched = untouchedDerivative(k: k, epsPrime: epsPrime)
            return AdaptedVectorBuilder(
                destination: Tensor.zeros(parameter.tensor.shape),
                adaptBlock: { block, _ in
                    for i in block.indices { block[i] *= untouched }
                }, completion: release)
        }
        // A copy shares g's storage until the first block is written, which then copies it.
        return AdaptedVectorBuilder(
            destination: reusable ? g : g.copy(),
            write: { block, offset, out in
                guard block.count > 0 else { return }
                m.withUnsafeBufferPointer { m in
                    s.withUnsafeBufferPointer { s in
                        winnow_adam_adapt_over_gradient(
                            out.baseAddress! + offset, block.baseAddress!, m.baseAddress! + offset,
                            s.baseAddress! + offset, block.count, k, beta1, beta2, epsPrime)
                    }
                }
            }, completion: release)
    }

    public func hasUpdateDerivativeState(_ parameters: [NamedParameter]) -> Bool {
        parameters.allSatisfy { !isReleased($0.key) }
    }

    /// Drops the last gradients of these parameters (the only state kept just for A).
    public func releaseUpdateDerivativeState(_ parameters: [NamedParameter]) {
        for (key, _) in parameters { lastGradients[key] = nil }
    }

    /// Whether the last gradient of a stepped parameter was released: every step records one next to the
    /// moments, so moments without it mean a release (no A until the parameter's next step).
    private func isReleased(_ key: String) -> Bool {
        lastGradients[key] == nil && store.slots["\(key).exp_avg"] != nil
    }

    /// k = γ·√(1−β2ᵗ)/(1−β1ᵗ) and ε' = ε·√(1−β2ᵗ) of the last step.
    private func derivativeConstants() -> (k: Float, epsPrime: Float) {
        precondition(stepCount > 0, "updateDerivative needs a step first")
        let c1 = 1 - Foundation.pow(beta1, Float(stepCount)), c2 = 1 - Foundation.pow(beta2, Float(stepCount))
        return (learningRate * c2.squareRoot() / c1, epsilon * c2.squareRoot())
    }

    /// ∂u/∂g of a parameter Adam never stepped (g = m = s = 0): k(1 − β1)/ε'.
    private func untouchedDerivative(k: Float, epsPrime: Float) -> Float { k * (1 - beta1) / epsPrime }

    /// The last (effective) gradient and the moments of a parameter, or nil if it was never stepped.
    private func lastStepState(_ key: String) -> (Tensor, [Float], [Float])? {
        precondition(!isReleased(key), "Adam: the last gradient of \(key) was released; ∂u/∂g needs a new step")
        guard let g = lastGradients[key], let m = store.slots["\(key).exp_avg"], let s = store.slots["\(key).exp_avg_sq"] else {
            return nil
        }
        return (g, m, s)
    }

    public func stateDictionary() -> [String: Tensor] {
        var state = store.tensors(shapes: shapes)
        for (key, g) in lastGradients { state["\(key).last_grad"] = g.detached() }
        state["__step"] = Tensor(Float(stepCount))
        return state
    }

    public func loadState(_ state: [String: Tensor], parameters: [NamedParameter]) throws {
        guard let step = state["__step"] else { throw OptimizerError.missingState("__step") }
        let count = Int(step.item)
        store = try SlotStore.restore(state, parameters: parameters, slotNames: count > 0 ? ["exp_avg", "exp_avg_sq"] : [])
        lastGradients = [:]
        for (key, tensor) in parameters {
            shapes["\(key).exp_avg"] = tensor.shape
            shapes["\(key).exp_avg_sq"] = tensor.shape
            // A parameter with moments but without its last gradient had it released (`isReleased`).
            if let g = state["\(key).last_grad"] { lastGradients[key] = g.detached() }
        }
        stepCount = count
    }
}
