import Tensors

/// Mean all-reduce of a gradient whose nonzero entries lie in a few rows, such as a word-embedding table
/// after a batch that uses a few hundred of its thousands of words.
///
/// Each rank marks the rows where its (scaled) gradient has a nonzero entry; a max all-reduce of that
/// one-Float-per-row mask gives the union over ranks, the same on every rank; only the union's rows are
/// packed and sum-all-reduced. Rows outside the union are zero on every rank, so the result equals the
/// dense mean all-reduce of the whole table element for element (up to the sign of zero), and it is
/// identical on every rank. Correctness never depends on the gradient really being sparse: a dense
/// gradient marks every row and is sent whole.
final class SparseRowReduction {
    /// Elements per row.
    let width: Int
    /// The union's rows, ascending.
    let rows: [Int]
    let shape: [Int]
    private let packed: ReductionBuffer
    private let pending: any PendingReduction
    /// Floats this rank contributed: the mask plus the packed rows.
    let floatsSent: Int

    /// Marks, unions (blocking) and starts the reduction of `scale · (gradient + addend)`.
    init(gradient: Tensor, addend: Tensor?, scale: Float, width: Int, communicator: any Communicator) throws {
        precondition(width > 0 && gradient.count % width == 0, "sparse-row reduction: \(gradient.count) elements are not rows of \(width)")
        self.width = width
        shape = gradient.shape
        let rowCount = gradient.count / width
        // Mark the rows where scale · (g + addend) has a nonzero entry, then pack just those rows: the whole
        // table is read once and never copied.
        func value(_ g: UnsafeBufferPointer<Float>, _ a: UnsafeBufferPointer<Float>?, _ i: Int) -> Float {
            if let a { scale * (g[i] + a[i]) } else { scale * g[i] }
        }
        var mask = [Float](repeating: 0, count: rowCount)
        func withAddend<R>(_ body: (UnsafeBufferPointer<Float>?) -> R) -> R {
            guard let addend else { return body(nil) }
            return addend.withUnsafeBufferPointer { body($0) }
        }
        withAddend { a in
            gradient.withUnsafeBufferPointer { g in
                for row in 0..<rowCount {
                    let start = row * width
                    for i in start..<(start + width) where value(g, a, i) != 0 { mask[row] = 1; break }
                }
            }
        }
        try communicator.allReduce(&mask, .max)
        let rows = mask.indices.filter { mask[$0] != 0 }
        let packed = ReductionBuffer(count: rows.count * width)
        withAddend { a in
            gradient.withUnsafeBufferPointer { g in
                for (slot, row) in rows.enumerated() {
                    let destination = packed.pointer + slot * width
                    for j in 0..<width { destination[j] = value(g, a, row * width + j) }
                }
            }
        }
        self.rows = rows
        self.packed = packed
        floatsSent = rowCount + rows.count * width
        pending = communicator.startAllReduce(packed, .sum)
    }

    /// Lets the communicator progress the reduction; true once complete.
    func test() -> Bool { pending.test() }

    /// Waits for the reduction and returns the whole table: the reduced rows, zeros elsewhere.
    func finish() throws -> Tensor {
        try pending.wait()
        var storage = [Float](repeating: 0, count: Tensor.count(of: shape))
        storage.withUnsafeMutableBufferPointer { s in
            for (slot, row) in rows.enumerated() {
                (s.baseAddress! + row * width).update(from: packed.pointer + slot * width, count: width)
            }
        }
        return Tensor(shape: shape, storage: storage)
    }
}
