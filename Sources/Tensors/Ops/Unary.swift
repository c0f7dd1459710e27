import Foundation

// Pointwise nonlinearities. Each derivative is itself a differentiable op, so double backward works.

extension Tensor {
    /// e^x.
    public func exp() -> Tensor {
        unaryKernel(self) { fastExp($0) }.recorded("exp", [self]) { g, y in [g * y] }
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
        unaryKernel(self) { max($0, 0) }.recorded("relu", [self]) { g, _ in [g * self.step()] }
    }

    /// 1 where x > 0, else 0 (not differentiable: its derivative is 0 almost everywhere).
    public func step() -> Tensor {
        unaryKernel(self) { $0 > 0 ? 1 : 0 }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        unaryKernel(self) { fastTanh($0) }.recorded("tanh", [self]) { g, y in [g * (1 - y * y)] }
    }

    /// Logistic sigmoid.
    public func sigmoid() -> Tensor {
        unaryKernel(self) { fastSigmoid($0) }.recorded("sigmoid", [self]) { g, y in [g * y * (1 - y)] }
    }

    /// GELU, exact erf form: x·Φ(x).
    public func gelu() -> Tensor {
        unaryKernel(self) { $0 * normalCDF($0) }.recorded("gelu", [self]) { g, _ in [g * self.geluDerivative()] }
    }

    /// dGELU/dx = Φ(x) + x·φ(x).
    func geluDerivative() -> Tensor {
        // A plain loop over an always-inlined scalar: passed as a closure to `unaryKernel`, this body (two fast
        // exponentials) was left out of line and called per element, unvectorised (12% of a MiniLM fine-tuning
        // step in a profile). The values are the same either way.
        Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in for i in 0..<out.count { out[i] = geluDerivativeScalar(x[i]) } }
        }
        .recorded("geluDerivative", [self]) { g, _ in [g * self.geluSecondDerivative()] }
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
