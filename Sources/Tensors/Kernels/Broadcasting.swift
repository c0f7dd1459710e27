/// Shape arithmetic for NumPy-style broadcasting.
public enum Broadcasting {
    /// The broadcast shape of `a` and `b` (trailing dimensions aligned; 1 stretches).
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1, "Shapes \(a) and \(b) do not broadcast")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Row-major strides of a shape.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = running
            running *= shape[i]
        }
        return strides
    }

    /// Strides of `shape` seen as broadcast to `target`: 0 on stretched or missing dimensions.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }

    /// Whether `shape` (leading 1s removed) equals the trailing dimensions of `target`.
    static func isSuffix(_ shape: [Int], of target: [Int]) -> Bool {
        let trimmed = Array(shape.drop(while: { $0 == 1 }))
        guard trimmed.count <= target.count else { return false }
        return Array(target.suffix(trimmed.count)) == trimmed
    }
}

/// Calls `body(outIndex, aOffset, bOffset)` for every element of `shape`, walking two strided operands.
@inline(__always)
func forEachStrided(_ shape: [Int], _ aStrides: [Int], _ bStrides: [Int], _ body: (Int, Int, Int) -> Void) {
    let rank = shape.count
    let total = Tensor.count(of: shape)
    if total == 0 { return }
    if rank == 0 { body(0, 0, 0); return }
    let inner = shape[rank - 1], aInner = aStrides[rank - 1], bInner = bStrides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var aBase = 0, bBase = 0, out = 0
    while out < total {
        var aOff = aBase, bOff = bBase
        for _ in 0..<inner {
            body(out, aOff, bOff)
            out += 1; aOff += aInner; bOff += bInner
        }
        // Advance the outer multi-index.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            aBase += aStrides[d]; bBase += bStrides[d]
            if index[d] < shape[d] { break }
            aBase -= aStrides[d] * shape[d]; bBase -= bStrides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
        if d < 0 { break }
    }
}

/// Elementwise binary kernel with broadcasting and fast paths for equal shapes, scalars and suffixes; the fast
/// paths split their elements (or rows) over the kernel threads.
@inline(__always)
func binaryKernel<F: BinaryElementFunction>(_ a: Tensor, _ b: Tensor, _ f: F) -> Tensor {
    if a.shape == b.shape {
        return Tensor(shape: a.shape) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    KernelThreads.forEachRange(out.count) { range in for i in range { out[i] = f(pa[i], pb[i]) } }
                }
            }
        }
    }
    let shape = Broadcasting.shape(a.shape, b.shape)
    if b.count == 1, a.shape == shape {
        let s = b.storage[0]
        return Tensor(shape: shape) { out in
            a.withUnsafeBufferPointer { pa in
                KernelThreads.forEachRange(out.count) { range in for i in range { out[i] = f(pa[i], s) } }
            }
        }
    }
    if a.count == 1, b.shape == shape {
        let s = a.storage[0]
        return Tensor(shape: shape) { out in
            b.withUnsafeBufferPointer { pb in
                KernelThreads.forEachRange(out.count) { range in for i in range { out[i] = f(s, pb[i]) } }
            }
        }
    }
    if a.shape == shape, Broadcasting.isSuffix(b.shape, of: shape), b.count > 0 {
        let inner = b.count
        return Tensor(shape: shape) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    KernelThreads.forEachRange(out.count / inner, elementsPerItem: inner) { rows in
                        for row in rows {
                            let base = row * inner
                            for j in 0..<inner { out[base + j] = f(pa[base + j], pb[j]) }
                        }
                    }
                }
            }
        }
    }
    if b.shape == shape, Broadcasting.isSuffix(a.shape, of: shape), a.count > 0 {
        let inner = a.count
        return Tensor(shape: shape) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    KernelThreads.forEachRange(out.count / inner, elementsPerItem: inner) { rows in
                        for row in rows {
                            let base = row * inner
                            for j in 0..<inner { out[base + j] = f(pa[j], pb[base + j]) }
                        }
                    }
                }
            }
        }
    }
    let aStrides = Broadcasting.broadcastStrides(a.shape, to: shape)
    let bStrides = Broadcasting.broadcastStrides(b.shape, to: shape)
    return Tensor(shape: shape) { out in
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                forEachStrided(shape, aStrides, bStrides) { o, ia, ib in out[o] = f(pa[ia], pb[ib]) }
            }
        }
    }
}

/// Elementwise unary kernel whose elements are split over the kernel threads.
@inline(__always)
func unaryKernel<F: UnaryElementFunction>(_ a: Tensor, _ f: F) -> Tensor {
    Tensor(shape: a.shape) { out in
        a.withUnsafeBufferPointer { pa in
            KernelThreads.forEachRange(out.count) { range in for i in range { out[i] = f(pa[i]) } }
        }
    }
}

/// Elementwise unary kernel on the calling thread, for a function given as a closure (the functions of the
/// training paths are types, see `ElementFunctions.swift`, and take the split kernel above).
@inline(__always)
func unaryKernel(_ a: Tensor, _ op: (Float) -> Float) -> Tensor {
    Tensor(shape: a.shape) { out in
        a.withUnsafeBufferPointer { pa in for i in 0..<out.count { out[i] = op(pa[i]) } }
    }
}

/// Sums `a` over the axes where `target` (right-aligned) has extent 1 or is missing; result has shape `target`.
func reduceSumKernel(_ a: Tensor, to target: [Int]) -> Tensor {
    if a.shape == target { return Tensor(shape: target, storage: a.storage) }
    let targetCount = Tensor.count(of: target)
    if targetCount == 1 {
        return Tensor(shape: target, storage: [a.withUnsafeBufferPointer { sumAll($0) }])
    }
    // Fast path: target is a suffix of a's shape (e.g. bias gradient [N, D] -> [D]).
    // Split over the target's columns: each column is still summed row by row in order.
    if Broadcasting.isSuffix(target, of: a.shape), targetCount > 0 {
        let rows = a.count / targetCount
        return Tensor(shape: target) { out in
            a.withUnsafeBufferPointer { pa in
                KernelThreads.forEachRange(targetCount, elementsPerItem: rows) { columns in
                    for j in columns { out[j] = 0 }
                    for row in 0..<rows {
                        let base = row * targetCount
                        for j in columns { out[j] += pa[base + j] }
                    }
                }
            }
        }
    }
    let outStrides = Broadcasting.broadcastStrides(target, to: a.shape)
    let inStrides = Broadcasting.strides(a.shape)
    // Fast path: reduction over trailing contiguous block (e.g. [N, D] -> [N, 1]).
    var trailing = a.shape.count
    while trailing > 0, outStrides[trailing - 1] == 0 { trailing -= 1 }
    if trailing < a.shape.count, outStrides[..<trailing].elementsEqual(Broadcasting.strides(Array(a.shape[..<trailing]))) {
        let block = a.shape[trailing...].reduce(1, *)
        return Tensor(shape: target) { out in
            a.withUnsafeBufferPointer { pa in
                for row in 0..<out.count {
                    var s: Float = 0
                    let base = row * block
                    for j in 0..<block { s += pa[base + j] }
                    out[row] = s
                }
            }
        }
    }
    return Tensor(shape: target) { out in
        for j in 0..<targetCount { out[j] = 0 }
        a.withUnsafeBufferPointer { pa in
            forEachStrided(a.shape, inStrides, outStrides) { _, ia, io in out[io] += pa[ia] }
        }
    }
}

/// Broadcasts `a` to `shape` by copying.
func expandKernel(_ a: Tensor, to shape: [Int]) -> Tensor {
    if a.shape == shape { return Tensor(shape: shape, storage: a.storage) }
    let aStrides = Broadcasting.broadcastStrides(a.shape, to: shape)
    return Tensor(shape: shape) { out in
        a.withUnsafeBufferPointer { pa in
            forEachStrided(shape, aStrides, aStrides) { o, ia, _ in out[o] = pa[ia] }
        }
    }
}

/// Sum of all elements with eight independent accumulators (vectorises; pairs rounding errors).
func sumAll(_ x: UnsafeBufferPointer<Float>) -> Float {
    var lanes = SIMD8<Float>(repeating: 0)
    let blocks = x.count / 8
    for b in 0..<blocks {
        let base = b * 8
        lanes += SIMD8(x[base], x[base + 1], x[base + 2], x[base + 3], x[base + 4], x[base + 5], x[base + 6], x[base + 7])
    }
    var total = lanes.sum()
    for i in (blocks * 8)..<x.count { total += x[i] }
    return total
}

/// Largest element with eight independent lanes (−∞ for an empty buffer).
func maxAll(_ x: UnsafeBufferPointer<Float>) -> Float {
    var lanes = SIMD8<Float>(repeating: -.infinity)
    let blocks = x.count / 8
    for b in 0..<blocks {
        let base = b * 8
        let v = SIMD8(x[base], x[base + 1], x[base + 2], x[base + 3], x[base + 4], x[base + 5], x[base + 6], x[base + 7])
        lanes.replace(with: v, where: v .> lanes)  // pointwiseMax was left out of line, called per block
    }
    var best = lanes.max()
    for i in (blocks * 8)..<x.count where x[i] > best { best = x[i] }
    return best
}
