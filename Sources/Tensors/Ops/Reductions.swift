// Reductions and the softmax family.

extension Tensor {
    /// Sum of all elements (a scalar).
    public func sum() -> Tensor { sumTo([]) }

    /// Mean of all elements (a scalar).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum over `axes` (negative axes count from the end).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let normalized = Set(axes.map { normalizeAxis($0) })
        let kept = shape.enumerated().map { normalized.contains($0.offset) ? 1 : $0.element }
        let reduced = sumTo(kept)
        return keepDims ? reduced : reduced.reshaped(shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element))
    }

    /// Mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = axes.map { shape[normalizeAxis($0)] }.reduce(1, *)
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Converts a possibly negative axis into 0..<rank.
    public func normalizeAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "Axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        let width = shape.last ?? 1
        return Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in softmaxRows(x, out, width: width, log: false) }
        }.recorded("softmax", [self]) { g, y in
            // Recorded (double backward): differentiable ops; plain gradients: one fused pass per row.
            if GradMode.isEnabled { return [y * (g - (g * y).sum(axes: [-1], keepDims: true))] }
            return [softmaxBackward(gradient: g, output: y, width: width)]
        }
    }

    /// Log-softmax over the last axis.
    public func logSoftmax() -> Tensor {
        let width = shape.last ?? 1
        return Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in softmaxRows(x, out, width: width, log: true) }
        }.recorded("logSoftmax", [self]) { g, y in
            [g - y.exp() * g.sum(axes: [-1], keepDims: true)]
        }
    }

    /// Index of the largest element along the last axis, per row (not differentiable).
    public func argmaxLastAxis() -> [Int] {
        let width = shape.last ?? 1
        guard width > 0 else { return [] }
        return withUnsafeBufferPointer { x in
            (0..<(count / width)).map { row in
                var best = 0
                for j in 1..<width where x[row * width + j] > x[row * width + best] { best = j }
                return best
            }
        }
    }
}

/// The softmax's input gradient row by row, y ⊙ (g − Σⱼ gⱼ·yⱼ), in one pass per row; rows split over the kernel
/// threads.
private func softmaxBackward(gradient: Tensor, output: Tensor, width: Int) -> Tensor {
    Tensor(shape: output.shape) { dx in
        gradient.withUnsafeBufferPointer { g in
            output.withUnsafeBufferPointer { y in
                guard width > 0 else { return }
                KernelThreads.forEachRange(dx.count / width, elementsPerItem: width) { rows in
                    for row in rows {
                        let base = row * width
                        var dot: Float = 0
                        for j in 0..<width { dot += g[base + j] * y[base + j] }
                        for j in 0..<width { dx[base + j] = y[base + j] * (g[base + j] - dot) }
                    }
                }
            }
        }
    }
}

/// Numerically stable (log-)softmax of each row of `width` elements, rows split over the kernel threads; each
/// pass is a separate loop so the exponentials vectorise and the reductions use independent accumulators.
private func softmaxRows(_ x: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>, width: Int, log: Bool) {
    guard width > 0, let xBase = x.baseAddress, let oBase = out.baseAddress else { return }
    KernelThreads.forEachRange(x.count / width, elementsPerItem: width) { rows in
        for rowIndex in rows {
            let base = rowIndex * width
            let row = UnsafeBufferPointer(start: xBase + base, count: width)
            let target = UnsafeMutableBufferPointer(start: oBase + base, count: width)
            var m = maxAll(row)
            if m == -.infinity { m = 0 }
            for j in 0..<width { target[j] = fastExp(row[j] - m) }
            let total = sumAll(UnsafeBufferPointer(target))
            if log {
                let logTotal = logf_(total) + m
                for j in 0..<width { target[j] = row[j] - logTotal }
            } else {
                let inverse = 1 / total
                for j in 0..<width { target[j] *= inverse }
            }
        }
    }
}
