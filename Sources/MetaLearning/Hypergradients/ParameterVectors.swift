import Tensors

/// Inner products and axpy over lists of tensors (one per parameter).
enum ParameterVectors {
    /// Σ aᵢ·bᵢ over all tensors (`dot(_:_:)` of the buffers, summed in Double).
    static func dot(_ a: [Tensor], _ b: [Tensor]) -> Double {
        var total = 0.0
        for (x, y) in zip(a, b) {
            x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in total += dot(px, py) } }
        }
        return total
    }

    /// Σ xᵢ² of a buffer.
    static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double { dot(x, x) }

    /// Σ xᵢ·yᵢ: eight Float lanes per block of 4,096, blocks summed in Double.
    static func dot(_ px: UnsafeBufferPointer<Float>, _ py: UnsafeBufferPointer<Float>) -> Double {
        precondition(px.count == py.count, "dot: \(px.count) and \(py.count) entries")
        var total = 0.0
        var start = 0
        while start < px.count {
            let end = min(start + 4_096, px.count)
            var lanes = SIMD8<Float>(repeating: 0)
            var i = start
            while i + 8 <= end {
                lanes +=
                    SIMD8(px[i], px[i + 1], px[i + 2], px[i + 3], px[i + 4], px[i + 5], px[i + 6], px[i + 7])
                    * SIMD8(py[i], py[i + 1], py[i + 2], py[i + 3], py[i + 4], py[i + 5], py[i + 6], py[i + 7])
                i += 8
            }
            var block = Double(lanes.sum())
            while i < end { block += Double(px[i]) * Double(py[i]); i += 1 }
            total += block
            start = end
        }
        return total
    }

    static func norm(_ a: [Tensor]) -> Double { dot(a, a).squareRoot() }

    /// x ← x + s·y, in place (saxpy, on the BLAS threads).
    static func addScaled(_ x: [Tensor], _ s: Float, _ y: [Tensor]) {
        for (a, b) in zip(x, y) { a.addScaledInPlace(s, b) }
    }

    static func scaled(_ a: [Tensor], _ s: Float) -> [Tensor] { withoutGrad { a.map { $0 * s } } }
    /// Independent leaves with the same values (storage is copy-on-write, so in-place updates copy once).
    static func copy(_ a: [Tensor]) -> [Tensor] { a.map { $0.detached() } }
}
