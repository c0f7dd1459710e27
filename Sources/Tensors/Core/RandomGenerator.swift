/// A seeded, reproducible random generator (xoshiro256**, seeded through SplitMix64).
///
/// Its whole state is four words (`state`) that can be saved and restored, so a resumed run or a second
/// forward pass (SAMA's ± passes) draws exactly the same numbers.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The generator state; assign a saved value to restore it.
    public var state: [UInt64]

    /// A generator seeded from `seed`.
    public init(seed: UInt64) {
        var s = seed
        state = (0..<4).map { _ in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public mutating func next() -> UInt64 {
        state.withUnsafeMutableBufferPointer { s in RandomGenerator.step(&s[0], &s[1], &s[2], &s[3]) }
    }

    /// One xoshiro256** step on the four state words: the output, with the words advanced.
    @inline(__always)
    private static func step(_ s0: inout UInt64, _ s1: inout UInt64, _ s2: inout UInt64, _ s3: inout UInt64) -> UInt64 {
        let scaled = s1 &* 5
        let result = (scaled << 7 | scaled >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform Float in [0, 1).
    public mutating func uniform() -> Float { RandomGenerator.unitFloat(next()) }

    /// The uniform Float in [0, 1) of one draw: its top 24 bits.
    @inline(__always)
    static func unitFloat(_ draw: UInt64) -> Float { Float(draw >> 40) * (1.0 / 16_777_216.0) }

    /// Calls `body` with a function giving the same successive values as `next()`, the state held in locals
    /// (an array element access per word otherwise) and written back when `body` returns.
    @inline(__always)
    mutating func withDraws<Result>(_ body: (_ next: () -> UInt64) -> Result) -> Result {
        var s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3]
        defer { state = [s0, s1, s2, s3] }
        return body { RandomGenerator.step(&s0, &s1, &s2, &s3) }
    }

    /// A standard normal Float (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// An integer uniformly drawn from 0..<n.
    public mutating func integer(below n: Int) -> Int { Int.random(in: 0..<n, using: &self) }

    /// A random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, integer(below: i + 1)) } }
        return p
    }
}

extension Tensor {
    /// Uniform samples in [low, high).
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator,
        requiresGrad: Bool = false
    ) -> Tensor {
        let values = (0..<Tensor.count(of: shape)).map { _ in low + (high - low) * rng.uniform() }
        return Tensor(shape: shape, storage: values, requiresGrad: requiresGrad)
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator,
        requiresGrad: Bool = false
    ) -> Tensor {
        let values = (0..<Tensor.count(of: shape)).map { _ in mean + std * rng.normal() }
        return Tensor(shape: shape, storage: values, requiresGrad: requiresGrad)
    }

    /// Bernoulli samples: `value` (1 unless given) with probability `p`, else 0. The same draws as `uniform() < p`
    /// element by element, with the generator's state kept in registers for the whole tensor.
    public static func bernoulli(
        _ shape: [Int], probability p: Float, value: Float = 1, using rng: inout RandomGenerator
    ) -> Tensor {
        Tensor(shape: shape) { out in
            rng.withDraws { next in
                for i in 0..<out.count { out[i] = RandomGenerator.unitFloat(next()) < p ? value : 0 }
            }
        }
    }
}
