// Per-element functions as types. The kernels are generic over them, so each is inlined into the loop of every
// chunk a kernel hands to another thread (a closure value would be called per element once the loop is split).

/// A function of one element.
package protocol UnaryElementFunction {
    func callAsFunction(_ x: Float) -> Float
}

/// A function of two elements.
package protocol BinaryElementFunction {
    func callAsFunction(_ a: Float, _ b: Float) -> Float
}

/// a + b.
struct ElementSum: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b }
}

/// a − b.
struct ElementDifference: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b }
}

/// a · b.
struct ElementProduct: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b }
}

/// a / b.
struct ElementQuotient: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b }
}

/// a + s·b.
struct ScaledSum: BinaryElementFunction {
    let scale: Float
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + scale * b }
}

/// x + s.
struct ShiftedBy: UnaryElementFunction {
    let shift: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x + shift }
}

/// x · s.
struct ScaledBy: UnaryElementFunction {
    let scale: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * scale }
}

/// −x.
struct Negated: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { -x }
}

/// e^x (`fastExp`).
struct Exponential: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { fastExp(x) }
}

/// tanh x (`fastTanh`).
struct HyperbolicTangent: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { fastTanh(x) }
}

/// 1 / (1 + e^−x) (`fastSigmoid`).
struct Logistic: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { fastSigmoid(x) }
}

/// max(x, 0).
struct Rectified: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { max(x, 0) }
}

/// 1 where x > 0, else 0.
struct PositiveIndicator: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? 1 : 0 }
}

/// GELU, x·Φ(x).
struct GaussianErrorLinear: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * normalCDF(x) }
}
