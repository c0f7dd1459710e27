import Tensors

/// Mean all-reduce of a gradient whose nonzero entries lie in a few rows, such as a word-embedding table
/// after a batch that uses a few hundred of its thousands of words.
///
/// Each rank marks the rows where its (scaled) gradient has a nonzero entry; a max all-reduce of that
/// one-Float-per-row mask gives the union over ranks, the same on every rank; only the union's rows are
/// packed and sum-all-reduced. Rows outside the union are zero on every rank, and each reduced entry is the
/// sum of the same per-rank values as in the dense reduction, so the result is the same on every rank. It
/// equals the dense reduction bit for bit when the reduction adds ranks in a fixed order (two ranks, or
/// in-process ranks); with MPI on three or more ranks the library may order the additions differently for a
/// buffer of another length, so the two can differ in the last bits. Correctness never depends on the
/// gradient really being sparse: a dense gradient marks every row and is sent whole.
final class SparseRowReduction {
    /// Elements per row.
    let width: Int
    let shape: [Int]
    private let gradient: Tensor
    private let addend: Tensor?
    private let scale: Float
    private var mask: [Float]
    /// The union's rows, ascending (after `start`).
    private(set) var rows: [Int] = []
    private var packed: ReductionBuffer?
    private var pending: (any PendingReduction)?

    /// Marks the rows where `scale · (gradient + addend)` has a nonzero entry (local work, no communication).
    init(gradient: Tensor, addend: Tensor?, scale: Float, width: Int) {
        precondition(width > 0 && gradient.count % width == 0, "sparse-row reduction: \(gradient.count) elements are not rows of \(width)")
        self.width = width
        self.gradient = gradient
        self.addend = addend
        self.scale = scale
        shape = gradient.shape
        let rowCount = gradient.count / width
        var mask = [Float](repeating: 0, count: rowCount)
        Self.withValues(gradient, addend, scale) { value in
            for row in 0..<rowCount {
                let start = row * width
                for i in start..<(start + width) where value(i) != 0 { mask[row] = 1; break }
            }
        }
        self.mask = mask
    }

    /// Floats this rank contributes: the mask plus the packed rows (after `start`).
    var floatsSent: Int { mask.count + rows.count * width }

    /// Unions the masks over ranks (blocking), packs the union's rows and starts their sum all-reduce.
    func start(communicator: any Communicator) throws {
        try communicator.allReduce(&mask, .max)
        rows = mask.indices.filter { mask[$0] != 0 }
        let packed = ReductionBuffer(count: rows.count * width)
        let (rows, width) = (rows, width)
        Self.withValues(gradient, addend, scale) { value in
            for (slot, row) in rows.enumerated() {
                let destination = packed.pointer + slot * width
                for j in 0..<width { destination[j] = value(row * width + j) }
            }
        }
        self.packed = packed
        pending = communicator.startAllReduce(packed, .sum)
    }

    /// Waits for the reduction and returns the whole table: the reduced rows, zeros elsewhere.
    func finish() throws -> Tensor {
        guard let pending, let packed else { preconditionFailure("SparseRowReduction.finish before start") }
        try pending.wait()
        var storage = [Float](repeating: 0, count: Tensor.count(of: shape))
        storage.withUnsafeMutableBufferPointer { s in
            for (slot, row) in rows.enumerated() {
                (s.baseAddress! + row * width).update(from: packed.pointer + slot * width, count: width)
            }
        }
        return Tensor(shape: shape, storage: storage)
    }

    /// Calls `body` with a function giving entry i of `scale · (gradient + addend)`: the dense reduction's values.
    private static func withValues(_ gradient: Tensor, _ addend: Tensor?, _ scale: Float, _ body: ((Int) -> Float) -> Void) {
        gradient.withUnsafeBufferPointer { g in
            if let addend {
                addend.withUnsafeBufferPointer { a in body { scale * (g[$0] + a[$0]) } }
            } else {
                body { scale * g[$0] }
            }
        }
    }
}
