// Fast, vectorisable scalar approximations for hot kernels (glibc expf/erff/tanhf are slow here).
// Each is tested against Foundation's Double versions in TensorsTests.

/// exp(x) with relative error below 2e-7 on [-87, 88]; clamps outside (no inf/denormals).
/// Branch-free and conversion-free (the rounding and the exponent use the 1.5·2²³ trick) so loops vectorise.
@inline(__always) @usableFromInline
func fastExp(_ x: Float) -> Float {
    let low: Float = -87, high: Float = 88
    let clamped = x < low ? low : (x > high ? high : x)
    let magic: Float = 12_582_912  // 1.5·2²³: adding it rounds to the nearest integer in the low mantissa bits
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    // Cody–Waite reduction: r = x − n·ln2 in two parts keeps r accurate.
    let r = (clamped - n * 0.693_145_75) - n * 1.428_606_8e-6
    var p: Float = 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    let exponentBits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23
    return p * Float(bitPattern: exponentBits)
}

/// erf(x) with absolute error below 3e-7 (Abramowitz & Stegun 7.1.26 with a fast exponential).
@inline(__always) @usableFromInline
func fastErf(_ x: Float) -> Float { erf(x, givenExpOfMinusSquare: fastExp(-x * x)) }

/// erf(x) by Abramowitz & Stegun 7.1.26 from e^(−x²), for callers that have that exponential already.
@inline(__always) @usableFromInline
func erf(_ x: Float, givenExpOfMinusSquare gaussian: Float) -> Float {
    let a = abs(x)
    let t = 1.0 / (1.0 + 0.327_591_1 * a)
    var y: Float = 1.061_405_429
    y = y * t - 1.453_152_027
    y = y * t + 1.421_413_741
    y = y * t - 0.284_496_736
    y = y * t + 0.254_829_592
    let r = 1.0 - y * t * gaussian
    return x < 0 ? -r : r
}

/// tanh(x) with absolute error below 3e-7.
@inline(__always) @usableFromInline
func fastTanh(_ x: Float) -> Float {
    let e = fastExp(-2 * abs(x))
    let r = (1 - e) / (1 + e)
    return x < 0 ? -r : r
}

/// The logistic sigmoid 1/(1+e^(−x)), accurate to a few ulps.
@inline(__always) @usableFromInline
func fastSigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// Standard normal density φ(x).
@inline(__always) @usableFromInline
func normalDensity(_ x: Float) -> Float { 0.398_942_28 * fastExp(-0.5 * x * x) }

/// Standard normal CDF Φ(x).
@inline(__always) @usableFromInline
func normalCDF(_ x: Float) -> Float { 0.5 * (1 + fastErf(x * 0.707_106_78)) }

/// dGELU/dx = Φ(x) + x·φ(x), with one exponential: e^(−x²/2) is φ's and the one erf needs at x/√2.
@inline(__always) @usableFromInline
func geluDerivativeScalar(_ x: Float) -> Float {
    let gaussian = fastExp(-0.5 * x * x)
    let cdf = 0.5 * (1 + erf(x * 0.707_106_78, givenExpOfMinusSquare: gaussian))
    return cdf + x * 0.398_942_28 * gaussian
}

/// Package-visible wrappers so tests can measure accuracy.
package enum FastMath {
    package static func exp(_ x: Float) -> Float { fastExp(x) }
    package static func erf(_ x: Float) -> Float { fastErf(x) }
    package static func tanh(_ x: Float) -> Float { fastTanh(x) }
}
