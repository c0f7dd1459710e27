import CBLAS
import CKernels

// Matrix products on OpenBLAS sgemm. Transposes are sgemm flags, never copies.

/// Controls the number of threads OpenBLAS uses (one per MPI rank is the rule).
public enum BLAS {
    /// Sets the number of OpenBLAS threads.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    /// The number of OpenBLAS threads.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Makes OpenBLAS's idle worker threads sleep after 2^16 cycles of spinning (about 20 µs) instead of 2^28
    /// (about 0.1 s), so that between two matrix products the elementwise kernels (`KernelThreads`) have the other
    /// cores to themselves. Keeps a user's `OPENBLAS_THREAD_TIMEOUT`. Call once, when the process starts: it
    /// restarts the workers, so it must not race another thread's BLAS call. Returns whether it changed anything.
    @discardableResult
    public static func limitIdleSpin() -> Bool { winnow_blas_limit_idle_spin(16) == 1 }
    /// What OpenBLAS says it is: version, build options and the CPU core it chose (`openblas_get_config`).
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "OpenBLAS" }
        let config = String(cString: text)
        return String(config.reversed().drop { $0 == " " }.reversed())
    }

    /// C = op(A)·op(B) for row-major matrices, written into `c` (m×n).
    @inline(__always)
    static func sgemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, beta: Float = 0
    ) {
        sgemm(
            a, lda: transposeA ? m : k, transposeA: transposeA, b, ldb: transposeB ? k : n, transposeB: transposeB,
            c, m: m, n: n, k: k, beta: beta)
    }

    /// C = op(A)·op(B) (+ beta·C) for row-major matrices with explicit leading dimensions (submatrices), C m×n
    /// with leading dimension n.
    @inline(__always)
    static func sgemm(
        _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool, _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, beta: Float = 0
    ) {
        FLOPCounter.addProduct(m: m, n: n, k: k)
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
    }
}

extension Tensor {
    /// Matrix product `op(self) · op(other)` over the last two axes.
    ///
    /// Shapes: `[M, K]·[K, N]`; `[..., M, K]·[K, N]` (a shared right matrix, e.g. a linear layer); and
    /// `[B..., M, K]·[B..., K, N]` (batched, equal leading axes). `transposeA`/`transposeB` transpose the
    /// last two axes of each operand through sgemm flags.
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2, "matmul needs matrices, got \(shape) and \(other.shape)")
        if other.rank == 2 && rank > 2 && !transposeA {
            let k = shape[rank - 1]
            let flat = reshaped([count / Swift.max(k, 1), k])
            let product = flat.matmul(other, transposeB: transposeB)
            return product.reshaped(Array(shape.dropLast()) + [product.shape[1]])
        }
        if rank == 2 && other.rank == 2 {
            return matmul2D(self, other, transposeA: transposeA, transposeB: transposeB)
        }
        precondition(
            rank == other.rank && shape.dropLast(2) == other.shape.dropLast(2),
            "batched matmul needs equal leading axes, got \(shape) and \(other.shape)")
        let lead = Array(shape.dropLast(2))
        let batch = lead.reduce(1, *)
        let a3 = reshaped([batch, shape[rank - 2], shape[rank - 1]])
        let b3 = other.reshaped([batch, other.shape[rank - 2], other.shape[rank - 1]])
        let c3 = batchedMatmul(a3, b3, transposeA: transposeA, transposeB: transposeB)
        return c3.reshaped(lead + Array(c3.shape.suffix(2)))
    }
}

private func matmul2D(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0]
    let n = transposeB ? b.shape[0] : b.shape[1]
    precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    let c = Tensor(shape: [m, n]) { out in
        if k == 0 { for i in 0..<out.count { out[i] = 0 }; return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                BLAS.sgemm(
                    pa.baseAddress!, pb.baseAddress!, out.baseAddress!, m: m, n: n, k: k,
                    transposeA: transposeA, transposeB: transposeB)
            }
        }
    }
    let rowBlocked: RowBlockedBackward = { g, streamed, blockElements, consume in
        var grads = matmulGradients(
            g, a, b, transposeA: transposeA, transposeB: transposeB,
            skipA: streamed.contains(0), skipB: streamed.contains(1))
        for position in streamed.sorted() {
            streamMatmulGradient(
                g, a, b, of: position, transposeA: transposeA, transposeB: transposeB,
                blockElements: blockElements
            ) { rows, values in consume(position, rows, values) }
            grads[position] = nil
        }
        return grads
    }
    return c.recorded("matmul", [a, b], rowBlocked: rowBlocked) { g, _ in
        matmulGradients(g, a, b, transposeA: transposeA, transposeB: transposeB)
    }
}

/// One operand of a product as sgemm reads it: a row-major matrix with leading dimension `ld`, used as stored
/// or transposed. Row r of the operand starts at `base + r·ld` (as stored) or `base + r` (transposed).
private struct GEMMOperand {
    let base: UnsafePointer<Float>
    let ld: Int
    let transposed: Bool
    func rows(from r: Int) -> UnsafePointer<Float> { transposed ? base + r : base + r * ld }
}

/// The gradient of input `position` (0: a, 1: b) of C = op(A)·op(B) in its stored layout, computed in blocks
/// of whole rows into one scratch buffer of at most `blockElements` elements (at least a row) and handed
/// to `consume`: the same products as `matmulGradients`, restricted to rows of the result, so the whole
/// gradient never exists at once.
private func streamMatmulGradient(
    _ g: Tensor, _ a: Tensor, _ b: Tensor, of position: Int, transposeA: Bool, transposeB: Bool,
    blockElements: Int, consume: (Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void
) {
    let m = g.shape[0], n = g.shape[1]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let target = position == 0 ? a : b
    let rowCount = target.shape[0], columns = target.shape[1]
    if rowCount == 0 {
        consume(0..<0, UnsafeMutableBufferPointer(start: nil, count: 0))
        return
    }
    let rowsPerBlock = Swift.max(1, Swift.min(rowCount, blockElements / Swift.max(columns, 1)))
    var scratch = [Float](repeating: 0, count: rowsPerBlock * columns)
    g.withUnsafeBufferPointer { pg in
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let gPlain = GEMMOperand(base: pg.baseAddress!, ld: n, transposed: false)
                let gTransposed = GEMMOperand(base: pg.baseAddress!, ld: n, transposed: true)
                let aLD = transposeA ? m : k, bLD = transposeB ? k : n
                // Result rows = left's rows; inner dimension: n for dA, m for dB.
                let left: GEMMOperand, right: GEMMOperand, inner: Int
                if position == 0 {
                    inner = n
                    if !transposeA {  // dA = g·op(B)ᵀ
                        (left, right) = (gPlain, GEMMOperand(base: pb.baseAddress!, ld: bLD, transposed: !transposeB))
                    } else {  // dA = op(B)·gᵀ
                        (left, right) = (GEMMOperand(base: pb.baseAddress!, ld: bLD, transposed: transposeB), gTransposed)
                    }
                } else {
                    inner = m
                    if !transposeB {  // dB = op(A)ᵀ·g
                        (left, right) = (GEMMOperand(base: pa.baseAddress!, ld: aLD, transposed: !transposeA), gPlain)
                    } else {  // dB = gᵀ·op(A)
                        (left, right) = (gTransposed, GEMMOperand(base: pa.baseAddress!, ld: aLD, transposed: transposeA))
                    }
                }
                scratch.withUnsafeMutableBufferPointer { out in
                    var start = 0
                    while start < rowCount {
                        let rows = Swift.min(rowsPerBlock, rowCount - start)
                        let block = UnsafeMutableBufferPointer(rebasing: out[0..<(rows * columns)])
                        if inner == 0 || columns == 0 {
                            block.initialize(repeating: 0)
                        } else {
                            BLAS.sgemm(
                                left.rows(from: start), lda: left.ld, transposeA: left.transposed,
                                right.base, ldb: right.ld, transposeB: right.transposed,
                                block.baseAddress!, m: rows, n: columns, k: inner)
                        }
                        consume(start..<(start + rows), block)
                        start += rows
                    }
                }
            }
        }
    }
}

private func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    let batch = a.shape[0]
    let m = transposeA ? a.shape[2] : a.shape[1]
    let k = transposeA ? a.shape[1] : a.shape[2]
    let kb = transposeB ? b.shape[2] : b.shape[1]
    let n = transposeB ? b.shape[1] : b.shape[2]
    precondition(k == kb && b.shape[0] == batch, "batched matmul shapes differ: \(a.shape) · \(b.shape)")
    let c = Tensor(shape: [batch, m, n]) { out in
        if k == 0 { for i in 0..<out.count { out[i] = 0 }; return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<batch {
                    BLAS.sgemm(
                        pa.baseAddress! + i * m * k, pb.baseAddress! + i * k * n, out.baseAddress! + i * m * n,
                        m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                }
            }
        }
    }
    return c.recorded("batchedMatmul", [a, b]) { g, _ in
        matmulGradients(g, a, b, transposeA: transposeA, transposeB: transposeB)
    }
}

/// Gradients of C = op(A)·op(B), themselves matrix products (so they are differentiable again).
private func matmulGradients(
    _ g: Tensor, _ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool,
    skipA: Bool = false, skipB: Bool = false
) -> [Tensor?] {
    let needA = a.requiresGrad && !skipA, needB = b.requiresGrad && !skipB
    switch (transposeA, transposeB) {
    case (false, false):
        return [needA ? g.matmul(b, transposeB: true) : nil, needB ? a.matmul(g, transposeA: true) : nil]
    case (true, false):
        return [needA ? b.matmul(g, transposeB: true) : nil, needB ? a.matmul(g) : nil]
    case (false, true):
        return [needA ? g.matmul(b) : nil, needB ? g.matmul(a, transposeA: true) : nil]
    case (true, true):
        return [
            needA ? b.matmul(g, transposeA: true, transposeB: true) : nil,
            needB ? g.matmul(a, transposeA: true, transposeB: true) : nil,
        ]
    }
}

extension Tensor {
    /// self ← self + s·other in place, on OpenBLAS's saxpy (which uses its threads for long vectors).
    public func addScaledInPlace(_ s: Float, _ other: Tensor) {
        precondition(count == other.count, "addScaledInPlace: \(count) entries and \(other.count)")
        guard count > 0 else { return }
        other.withUnsafeBufferPointer { y in
            withUnsafeMutableBufferPointer { x in
                cblas_saxpy(Int32(x.count), s, y.baseAddress!, 1, x.baseAddress!, 1)
            }
        }
    }
}
