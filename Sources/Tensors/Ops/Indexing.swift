// Gather / scatter: embeddings, per-sample losses, pooling. Each op's adjoint is the other.

extension Tensor {
    /// Rows of a 2-D (or higher) table: result[i] = self[indices[i]] (embedding lookup / index-select on axis 0).
    public func indexSelect(_ indices: [Int]) -> Tensor {
        precondition(rank >= 1, "indexSelect needs at least one axis")
        let rows = shape[0]
        let width = count / Swift.max(rows, 1)
        for i in indices { precondition(i >= 0 && i < rows, "indexSelect index \(i) out of range 0..<\(rows)") }
        let result = Tensor(shape: [indices.count] + shape.dropFirst()) { out in
            withUnsafeBufferPointer { x in
                guard width > 0, let source = x.baseAddress, let target = out.baseAddress else { return }
                for (r, i) in indices.enumerated() { (target + r * width).initialize(from: source + i * width, count: width) }
            }
        }
        let tableShape = shape
        return result.recorded("indexSelect", [self]) { g, _ in [g.indexAdd(indices, into: tableShape)] }
    }

    /// The adjoint of `indexSelect`: a zero tensor of `tableShape` with row `indices[i]` += self[i].
    public func indexAdd(_ indices: [Int], into tableShape: [Int]) -> Tensor {
        let width = Tensor.count(of: Array(tableShape.dropFirst()))
        let result = Tensor(shape: tableShape) { out in
            for i in 0..<out.count { out[i] = 0 }
            withUnsafeBufferPointer { x in
                for (r, i) in indices.enumerated() {
                    for j in 0..<width { out[i * width + j] += x[r * width + j] }
                }
            }
        }
        return result.recorded("indexAdd", [self]) { g, _ in [g.indexSelect(indices)] }
    }

    /// result.flat[i] = self.flat[indices[i]], shaped `shape`.
    public func gatherFlat(_ indices: [Int], shape outShape: [Int]) -> Tensor {
        precondition(indices.count == Tensor.count(of: outShape), "gatherFlat: \(indices.count) indices for shape \(outShape)")
        let n = count
        for i in indices { precondition(i >= 0 && i < n, "gatherFlat index \(i) out of range 0..<\(n)") }
        let result = Tensor(shape: outShape) { out in
            withUnsafeBufferPointer { x in for (o, i) in indices.enumerated() { out[o] = x[i] } }
        }
        let inputShape = shape
        return result.recorded("gatherFlat", [self]) { g, _ in [g.scatterAddFlat(indices, shape: inputShape)] }
    }

    /// The adjoint of `gatherFlat`: zeros of `shape` with out.flat[indices[i]] += self.flat[i].
    public func scatterAddFlat(_ indices: [Int], shape outShape: [Int]) -> Tensor {
        let result = Tensor(shape: outShape) { out in
            for i in 0..<out.count { out[i] = 0 }
            withUnsafeBufferPointer { x in for (o, i) in indices.enumerated() { out[i] += x[o] } }
        }
        let inputShape = shape
        return result.recorded("scatterAddFlat", [self]) { g, _ in [g.gatherFlat(indices, shape: inputShape)] }
    }

    /// For a `[N, C]` tensor, element `[i, classes[i]]` of each row: shape `[N]` (per-sample loss picking).
    public func pick(_ classes: [Int]) -> Tensor {
        precondition(rank == 2 && classes.count == shape[0], "pick needs [N, C] and N classes, got \(shape) and \(classes.count)")
        let width = shape[1]
        for c in classes { precondition(c >= 0 && c < width, "pick class \(c) out of range 0..<\(width)") }
        return gatherFlat(classes.enumerated().map { $0.offset * width + $0.element }, shape: [shape[0]])
    }

    /// One-hot rows `[N, classes]` for integer labels.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        Tensor(shape: [labels.count, classes]) { out in
            for i in 0..<out.count { out[i] = 0 }
            for (row, label) in labels.enumerated() {
                precondition(label >= 0 && label < classes, "oneHot label \(label) out of range 0..<\(classes)")
                out[row * classes + label] = 1
            }
        }
    }
}
