import Dispatch

/// How the elementwise and row-wise kernels split their work: into as many contiguous chunks as OpenBLAS has
/// threads (the one thread setting of a process or rank), when a tensor is large enough to repay the hand-off.
///
/// Between two matrix products the second core otherwise only spins in OpenBLAS's idle loop. Every element (or
/// row, or column of a column sum) is computed by the same code in the same order whatever the split, so results
/// are bit-identical for any thread count; `KernelThreadsTests` checks it.
package enum KernelThreads {
    /// Below this many elements of work a kernel runs on the calling thread (a hand-off costs a few microseconds).
    package static let minimumElements = 1 << 15

    /// A thread count that replaces the BLAS one in this task (tests compare splits with it).
    @TaskLocal package static var threadsOverride: Int?

    /// The number of chunks for `elements` elements of work: 1, or the BLAS thread count.
    @inline(__always)
    package static func chunks(forElements elements: Int) -> Int {
        elements < minimumElements ? 1 : max(1, threadsOverride ?? BLAS.threads)
    }

    /// Calls `body` on disjoint contiguous ranges that cover `0..<items` exactly, concurrently when the work,
    /// `items × elementsPerItem` elements, is large enough. `body` must write only what its range owns.
    ///
    /// Kernels call this with a closure whose per-element function is static (a concrete function or a generic
    /// type parameter): a function passed in as a closure value would be called per element, not inlined.
    @inline(__always)
    package static func forEachRange(_ items: Int, elementsPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(items, chunks(forElements: items * elementsPerItem))
        if chunks <= 1 {
            if items > 0 { body(0..<items) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The chunks write disjoint ranges and the call returns only when every chunk has finished.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                body((items * chunk / chunks)..<(items * (chunk + 1) / chunks))
            }
        }
    }
}
