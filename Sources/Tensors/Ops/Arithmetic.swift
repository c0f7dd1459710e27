// Elementwise arithmetic with broadcasting. Every backward is written in differentiable ops.

extension Tensor {
    /// Sums this tensor down to `shape` (the adjoint of broadcasting).
    public func sumTo(_ shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        let inputShape = self.shape
        return reduceSumKernel(self, to: shape).recorded("sumTo", [self]) { g, _ in [g.expand(to: inputShape)] }
    }

    /// Broadcasts this tensor to `shape` by copying.
    public func expand(to shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        let inputShape = self.shape
        return expandKernel(self, to: shape).recorded("expand", [self]) { g, _ in [g.sumTo(inputShape)] }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binaryKernel(a, b, ElementSum()).recorded("add", [a, b]) { g, _ in
            [a.requiresGrad ? g.sumTo(a.shape) : nil, b.requiresGrad ? g.sumTo(b.shape) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binaryKernel(a, b, ElementDifference()).recorded("sub", [a, b]) { g, _ in
            [a.requiresGrad ? g.sumTo(a.shape) : nil, b.requiresGrad ? (-g).sumTo(b.shape) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binaryKernel(a, b, ElementProduct()).recorded("mul", [a, b]) { g, _ in
            [a.requiresGrad ? (g * b).sumTo(a.shape) : nil, b.requiresGrad ? (g * a).sumTo(b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binaryKernel(a, b, ElementQuotient()).recorded("div", [a, b]) { g, _ in
            [
                a.requiresGrad ? (g / b).sumTo(a.shape) : nil,
                b.requiresGrad ? (-(g * a) / (b * b)).sumTo(b.shape) : nil,
            ]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor {
        unaryKernel(a, Negated()).recorded("neg", [a]) { g, _ in [-g] }
    }

    public static func + (a: Tensor, s: Float) -> Tensor {
        unaryKernel(a, ShiftedBy(shift: s)).recorded("addScalar", [a]) { g, _ in [g] }
    }

    public static func + (s: Float, a: Tensor) -> Tensor { a + s }

    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }

    public static func - (s: Float, a: Tensor) -> Tensor {
        unaryKernel(a) { s - $0 }.recorded("rsubScalar", [a]) { g, _ in [-g] }
    }

    public static func * (a: Tensor, s: Float) -> Tensor {
        unaryKernel(a, ScaledBy(scale: s)).recorded("mulScalar", [a]) { g, _ in [g * s] }
    }

    public static func * (s: Float, a: Tensor) -> Tensor { a * s }

    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }

    public static func / (s: Float, a: Tensor) -> Tensor {
        unaryKernel(a) { s / $0 }.recorded("rdivScalar", [a]) { g, y in [-(g * y) / a] }
    }

    /// Elementwise square.
    public func squared() -> Tensor { self * self }
}
