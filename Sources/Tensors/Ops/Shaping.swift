// Reshape, permute, concatenate, slice.

import CKernels

extension Tensor {
    /// The same elements with another shape (one axis may be -1). Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            resolved[inferred] = known == 0 ? 0 : count / known
        }
        precondition(Tensor.count(of: resolved) == count, "Cannot reshape \(shape) into \(newShape)")
        if resolved == shape { return self }
        let original = shape
        return Tensor(shape: resolved, storage: storage).recorded("reshape", [self]) { g, _ in [g.reshaped(original)] }
    }

    /// Reorders axes: result axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "Invalid permutation \(order) for shape \(shape)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let inStrides = Broadcasting.strides(shape)
        let gathered = order.map { inStrides[$0] }
        let swap = middleAxesSwap(order, shape)
        let result = Tensor(shape: outShape) { out in
            withUnsafeBufferPointer { x in
                if let swap, out.count > 0 {
                    winnow_swap_middle_axes(x.baseAddress, out.baseAddress, swap.batch, swap.rows, swap.columns, swap.inner)
                } else {
                    forEachStrided(outShape, gathered, gathered) { o, i, _ in out[o] = x[i] }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return result.recorded("permute", [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// Swaps two axes.
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizeAxis(axis0), normalizeAxis(axis1))
        return permuted(order)
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizeAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a], "Slice \(range) out of bounds for axis \(a) of \(shape)")
        if range.count == shape[a] { return self }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        var outShape = shape
        outShape[a] = range.count
        let full = shape[a]
        let result = Tensor(shape: outShape) { out in
            withUnsafeBufferPointer { x in
                for o in 0..<outer {
                    let src = (o * full + range.lowerBound) * inner, dst = o * range.count * inner
                    for j in 0..<(range.count * inner) { out[dst + j] = x[src + j] }
                }
            }
        }
        let inputShape = shape
        return result.recorded("slice", [self]) { g, _ in [g.padded(axis: a, range: range, to: inputShape)] }
    }

    /// The adjoint of `slice`: places this tensor at `range` along `axis` of zeros of `shape`.
    func padded(axis a: Int, range: Range<Int>, to fullShape: [Int]) -> Tensor {
        let outer = fullShape[..<a].reduce(1, *), inner = fullShape[(a + 1)...].reduce(1, *)
        let full = fullShape[a]
        let result = Tensor(shape: fullShape) { out in
            for i in 0..<out.count { out[i] = 0 }
            withUnsafeBufferPointer { x in
                for o in 0..<outer {
                    let dst = (o * full + range.lowerBound) * inner, src = o * range.count * inner
                    for j in 0..<(range.count * inner) { out[dst + j] = x[src + j] }
                }
            }
        }
        return result.recorded("pad", [self]) { g, _ in [g.slice(axis: a, range)] }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        let a = normalizeAxis(axis)
        precondition(sizes.reduce(0, +) == shape[a], "Split sizes \(sizes) do not add up to \(shape[a]) (axis \(a) of \(shape))")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: a, start..<(start + size))
        }
    }

    /// Concatenates tensors along `axis` (all other axes equal).
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let a = tensors[0].normalizeAxis(axis)
        let first = tensors[0].shape
        for t in tensors {
            precondition(
                t.rank == first.count && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first[$0] },
                "concatenate: shape \(t.shape) does not match \(first) off axis \(a)")
        }
        let sizes = tensors.map { $0.shape[a] }
        var outShape = first
        outShape[a] = sizes.reduce(0, +)
        let outer = first[..<a].reduce(1, *), inner = first[(a + 1)...].reduce(1, *)
        let total = outShape[a]
        let result = Tensor(shape: outShape) { out in
            var offset = 0
            for t in tensors {
                let size = t.shape[a]
                t.withUnsafeBufferPointer { x in
                    for o in 0..<outer {
                        let dst = (o * total + offset) * inner, src = o * size * inner
                        for j in 0..<(size * inner) { out[dst + j] = x[src + j] }
                    }
                }
                offset += size
            }
        }
        return result.recorded("concatenate", tensors) { g, _ in g.split(axis: a, sizes: sizes).map { Optional($0) } }
    }

    /// Inserts an axis of extent 1.
    public func unsqueezed(_ axis: Int) -> Tensor {
        var s = shape
        s.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshaped(s)
    }

    /// Flattens all axes after the first.
    public func flattenedBatch() -> Tensor { reshaped([shape.first ?? 1, -1]) }
}

/// Whether `order` swaps two adjacent groups of axes and keeps the others: axes `[a..<m]` and `[m..<e]` trade
/// places, so the tensor is `[batch, rows, columns, inner]` becoming `[batch, columns, rows, inner]` (NHWC → NCHW
/// and back, a batched matrix transpose, attention's heads ↔ positions). Nil for any other permutation.
func middleAxesSwap(_ order: [Int], _ shape: [Int]) -> (batch: Int, rows: Int, columns: Int, inner: Int)? {
    let rank = order.count
    var a = 0
    while a < rank && order[a] == a { a += 1 }
    var e = rank
    while e > a && order[e - 1] == e - 1 { e -= 1 }
    guard a < e else { return nil }
    let m = order[a]
    guard m > a && m < e else { return nil }
    let moved = e - m  // the group [m..<e] comes first
    for k in 0..<moved where order[a + k] != m + k { return nil }
    for k in 0..<(m - a) where order[a + moved + k] != a + k { return nil }
    func product(_ axes: Range<Int>) -> Int { shape[axes].reduce(1, *) }
    return (product(0..<a), product(a..<m), product(m..<e), product(e..<rank))
}
