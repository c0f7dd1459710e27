/// Finite-difference checks of recorded gradients (first order) and of double backward (Hessian-vector
/// and mixed products). Used by the test suites of every op, layer and model.
public enum GradientCheck {
    /// The worst disagreement found by a check.
    public struct Report: Sendable, CustomStringConvertible {
        public var maxAbsoluteError: Double
        public var maxRelativeError: Double
        public var comparedEntries: Int
        public var passed: Bool
        public var description: String {
            "compared \(comparedEntries) entries, max abs err \(maxAbsoluteError), max rel err \(maxRelativeError): "
                + "\(passed ? "ok" : "FAILED")"
        }
    }

    /// Compares ∂⟨f(x), r⟩/∂x from backward with central differences, for a fixed random projection r.
    ///
    /// - Parameters:
    ///   - inputs: leaf tensors (they are given `requiresGrad`), perturbed in place and restored.
    ///   - maxEntriesPerInput: entries checked per input (chosen at random, seeded) to bound the cost.
    public static func firstOrder(
        inputs: [Tensor], step: Float = 1e-2, absoluteTolerance: Double = 2e-3,
        relativeTolerance: Double = 2e-2, maxEntriesPerInput: Int = 24, seed: UInt64 = 7,
        _ f: () -> Tensor
    ) -> Report {
        var rng = RandomGenerator(seed: seed)
        for x in inputs { x.requiresGrad = true }
        let probe = withoutGrad { f() }
        let projection = Tensor.normal(probe.shape, using: &rng)
        let analytic = Autodiff.gradients(of: (f() * projection).sum(), wrt: inputs)
        func objective() -> Double {
            let y = withoutGrad { f() }
            return zip(y.storage, projection.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var report = Report(maxAbsoluteError: 0, maxRelativeError: 0, comparedEntries: 0, passed: true)
        for (x, grad) in zip(inputs, analytic) {
            for index in sampleIndices(x.count, maxEntriesPerInput, &rng) {
                let original = x.storage[index]
                x.storage[index] = original + step
                let plus = objective()
                x.storage[index] = original - step
                let minus = objective()
                x.storage[index] = original
                let numeric = (plus - minus) / (2 * Double(step))
                compare(Double(grad.storage[index]), numeric, absoluteTolerance, relativeTolerance, &report)
            }
        }
        return report
    }

    /// Compares the exact Hessian-vector product of the scalar `loss()` over all `inputs` (double backward,
    /// which includes every mixed product between inputs) with a central difference of first-order gradients.
    public static func hessianVectorProduct(
        inputs: [Tensor], step: Float = 1e-2, absoluteTolerance: Double = 3e-3,
        relativeTolerance: Double = 3e-2, seed: UInt64 = 11,
        _ loss: () -> Tensor
    ) -> Report {
        var rng = RandomGenerator(seed: seed)
        for x in inputs { x.requiresGrad = true }
        let directions = inputs.map { Tensor.normal($0.shape, using: &rng) }
        let exact = Autodiff.hessianVectorProduct(of: loss(), wrt: inputs, vector: directions)
        func gradientsAt(_ sign: Float) -> [Tensor] {
            for (x, v) in zip(inputs, directions) { x.assign(binaryKernel(x, v, ScaledSum(scale: sign * step))) }
            let g = Autodiff.gradients(of: loss(), wrt: inputs)
            for (x, v) in zip(inputs, directions) { x.assign(binaryKernel(x, v, ScaledSum(scale: -sign * step))) }
            return g
        }
        let originals = inputs.map { $0.storage }
        let plus = gradientsAt(1), minus = gradientsAt(-1)
        for (x, saved) in zip(inputs, originals) { x.assign(saved) }
        var report = Report(maxAbsoluteError: 0, maxRelativeError: 0, comparedEntries: 0, passed: true)
        for i in inputs.indices {
            for j in 0..<inputs[i].count {
                let numeric = (Double(plus[i].storage[j]) - Double(minus[i].storage[j])) / (2 * Double(step))
                compare(Double(exact[i].storage[j]), numeric, absoluteTolerance, relativeTolerance, &report)
            }
        }
        return report
    }

    private static func sampleIndices(_ n: Int, _ limit: Int, _ rng: inout RandomGenerator) -> [Int] {
        n <= limit ? Array(0..<n) : Array(rng.permutation(n).prefix(limit))
    }

    private static func compare(_ analytic: Double, _ numeric: Double, _ atol: Double, _ rtol: Double, _ report: inout Report) {
        let absolute = Swift.abs(analytic - numeric)
        let relative = absolute / Swift.max(Swift.abs(analytic), Swift.abs(numeric), 1e-12)
        report.comparedEntries += 1
        report.maxAbsoluteError = Swift.max(report.maxAbsoluteError, absolute)
        if absolute > atol { report.maxRelativeError = Swift.max(report.maxRelativeError, relative) }
        if absolute > atol + rtol * Swift.max(Swift.abs(analytic), Swift.abs(numeric)) { report.passed = false }
    }
}

extension Autodiff {
    /// The exact product of the Hessian of the scalar `loss` (over all `wrt`, mixed blocks included) with
    /// `vector`, by double backward: ∂/∂x ⟨∂loss/∂x, v⟩.
    public static func hessianVectorProduct(of loss: Tensor, wrt inputs: [Tensor], vector: [Tensor]) -> [Tensor] {
        let grads = gradients(of: loss, wrt: inputs, createGraph: true)
        return mixedProduct(gradients: grads, vector: vector, wrt: inputs)
    }

    /// ∂/∂y ⟨g, v⟩ for gradients `g` recorded with `createGraph: true`: with g = ∂L/∂θ and y = λ this is
    /// the mixed product ∂²L/∂λ∂θ · v used by the Neumann and conjugate-gradient hypergradients.
    public static func mixedProduct(gradients grads: [Tensor], vector: [Tensor], wrt inputs: [Tensor]) -> [Tensor] {
        precondition(grads.count == vector.count, "mixedProduct: \(grads.count) gradients for \(vector.count) vectors")
        var inner: Tensor? = nil
        for (g, v) in zip(grads, vector) where g.requiresGrad {
            let term = (g * v).sum()
            inner = inner.map { $0 + term } ?? term
        }
        guard let inner else { return inputs.map { Tensor.zeros($0.shape) } }
        return gradients(of: inner, wrt: inputs)
    }
}
