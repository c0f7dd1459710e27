import CKernels

/// Counts the floating-point operations of the matrix products this process runs: 2·m·n·k for every sgemm
/// (`BLAS.sgemm`, the one place every matmul, batched matmul and convolution — im2col then one sgemm — goes
/// through, forward and backward). Element-wise operations, reductions, softmax, normalisation and the optimizers
/// are not counted: the figure is the matrix work that sets a model's cost, and `achieved FLOP/s ÷ sgemm's FLOP/s`
/// is how much of the machine a step uses. Benchmarks read it around the work they time.
///
/// The count is per thread: a measurement sees the products its own thread issued (the engine runs a step on one
/// thread; OpenBLAS's own worker threads are inside the sgemm call), not those of threads running beside it.
public enum FLOPCounter {
    /// Operations counted on this thread since it started.
    public static var total: Int { Int(winnow_flops_total()) }

    /// Adds one sgemm's 2·m·n·k.
    @inline(__always)
    static func addProduct(m: Int, n: Int, k: Int) { winnow_flops_add(Int64(2 * m * n * k)) }

    /// `body`'s result and the operations it issued on this thread.
    public static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, flops: Int) {
        let start = total
        let result = try body()
        return (result, total - start)
    }
}
