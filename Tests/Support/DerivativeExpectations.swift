import Testing
import Tensors

// Expectations shared by the test suites: seeded tensors and finite-difference derivative checks.

/// A seeded random tensor with entries in [low, high).
public func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, using: &rng)
}

/// Asserts that first-order gradients match central differences.
public func expectGradients(
    _ inputs: [Tensor], step: Float = 1e-2, sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping () -> Tensor
) {
    let report = GradientCheck.firstOrder(inputs: inputs, step: step, f)
    #expect(report.passed, "first order: \(report)", sourceLocation: sourceLocation)
    #expect(report.comparedEntries > 0, sourceLocation: sourceLocation)
}

/// Asserts that the exact HVP (double backward) of a scalar made from f matches differences of gradients.
public func expectHessianVectorProducts(
    _ inputs: [Tensor], step: Float = 3e-3, sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping () -> Tensor
) {
    var rng = RandomGenerator(seed: 99)
    let probe = withoutGrad { f() }
    let projection = Tensor.normal(probe.shape, using: &rng)
    // A non-linear scalar so that linear ops still have a non-zero Hessian: Σ r·y + 0.5·Σ (r·y)².
    let report = GradientCheck.hessianVectorProduct(inputs: inputs, step: step) {
        let y = f() * projection
        return y.sum() + (y * y).sum() * 0.5
    }
    #expect(report.passed, "second order: \(report)", sourceLocation: sourceLocation)
}

/// Both orders at once.
public func expectDerivatives(
    _ inputs: [Tensor], step: Float = 1e-2, sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping () -> Tensor
) {
    expectGradients(inputs, step: step, sourceLocation: sourceLocation, f)
    expectHessianVectorProducts(inputs, step: min(step, 3e-3), sourceLocation: sourceLocation, f)
}

public func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "counts \(a.count) vs \(b.count)", sourceLocation: sourceLocation)
    let worst = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
    #expect(worst <= tolerance, "max difference \(worst)", sourceLocation: sourceLocation)
}
