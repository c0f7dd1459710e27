import Foundation

// Pointwise nonlinearities. Each derivative is itself a differentiable op, so double backward works.

extension Tensor {
    /// e^x.
    public func exp() -> Tensor {
        unaryKernel(self, Exponential()).recorded("exp", [self]) { g, y in [g * y] }
    }

    /// Natural logarithm.
    public func log() -> Tensor {
        unaryKernel(self) { Foundation.log($0) }.recorded("log", [self]) { g, _ in [g / self] }
    }

    /// Square root.
    public func sqrt() -> Tensor {
        unaryKernel(self) { $0.squareRoot() }.recorded("sqrt", [self]) { g, y in [g * 0.5 / y] }
    }

    /// 1/√x.
    public func rsqrt() -> Tensor {
        unaryKernel(self) { 1 / $0.squareRoot() }.recorded("rsqrt", [self]) { g, y in [g * -0.5 * y * y * y] }
    }

    /// max(x, 0).
    public func relu() -> Tensor {
        unaryKernel(self, Rectified()).recorded("relu", [self]) { g, _ in [g * self.step()] }
    }

    /// 1 where x > 0, else 0 (not differentiable: its derivative is 0 almost everywhere).
    public func step() -> Tensor {
        unaryKernel(self, PositiveIndicator())
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        unaryKernel(self, HyperbolicTangent()).recorded("tanh", [self]) { g, y in [g * (1 - y * y)] }
    }

    /// Logistic sigmoid.
    public func sigmoid() -> Tensor {
        unaryKernel(self, Logistic()).recorded("sigmoid", [self]) { g, y in [g * y * (1 - y)] }
    }

    /// GELU, exact erf form: x·Φ(x).
    public func gelu() -> Tensor {
        unaryKernel(self, GaussianErrorLinear()).recorded("gelu", [self]) { g, _ in
            // Recorded (double backward): differentiable ops; plain gradients: g·GELU′(x) in one pass.
            [GradMode.isEnabled ? g * self.geluDerivative() : self.geluInputGradient(g)]
        }
    }

    /// dGELU/dx = Φ(x) + x·φ(x).
    func geluDerivative() -> Tensor {
        // A loop over an always-inlined scalar: passed as a closure to the closure kernel, this body (two fast
        // exponentials) was left out of line and called per element, unvectorised.
        Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in
                KernelThreads.forEachRange(out.count) { range in for i in range { out[i] = geluDerivativeScalar(x[i]) } }
            }
        }
        .recorded("geluDerivative", [self]) { g, _ in [g * self.geluSecondDerivative()] }
    }

    /// g ⊙ GELU′(x), the same values as `g * geluDerivative()` in one pass (not differentiable).
    private func geluInputGradient(_ gradient: Tensor) -> Tensor {
        precondition(gradient.shape == shape, "gelu: gradient \(gradient.shape) for input \(shape)")
        return Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in
                gradient.withUnsafeBufferPointer { g in
                    KernelThreads.forEachRange(out.count) { range in
                        for i in range { out[i] = g[i] * geluDerivativeScalar(x[i]) }
                    }
                }
            }
        }
    }

    /// d²GELU/dx² = φ(x)·(2 − x²).
    func geluSecondDerivative() -> Tensor {
        unaryKernel(self) { normalDensity($0) * (2 - $0 * $0) }
            .recorded("geluSecondDerivative", [self]) { g, _ in
                [g * unaryKernel(self) { normalDensity($0) * ($0 * $0 * $0 - 4 * $0) }]
            }
    }

    /// Elementwise x^p for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        unaryKernel(self) { Foundation.pow($0, p) }.recorded("pow", [self]) { g, _ in [g * p * self.pow(p - 1)] }
    }

    /// |x| (subgradient 0 at 0).
    public func abs() -> Tensor {
        unaryKernel(self) { Swift.abs($0) }.recorded("abs", [self]) { g, _ in [g * self.sign()] }
    }

    /// −1, 0 or 1 (not differentiable).
    public func sign() -> Tensor { unaryKernel(self) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }

    /// Clamps into [low, high]; the gradient passes where the input is inside.
    public func clamped(_ low: Float, _ high: Float) -> Tensor {
        unaryKernel(self) { min(max($0, low), high) }.recorded("clamp", [self]) { g, _ in
            [g * unaryKernel(self) { $0 >= low && $0 <= high ? 1 : 0 }]
        }
    }
}
