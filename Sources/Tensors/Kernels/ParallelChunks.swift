import Dispatch

/// Runs `body` over contiguous chunks of `0..<count` items, on as many threads as the matrix products use
/// (``BLAS/threads``), so elementwise work scales with the same setting; one thread (or under
/// ``ParallelChunks/minimumElements`` elements per thread) runs it inline. Every item is computed by exactly one
/// chunk with the same arithmetic, so results never depend on the thread count.
/// - Parameters:
///   - count: the number of items (elements, or rows of `elementsPerItem` elements).
///   - elementsPerItem: the work of one item, in elements, for deciding whether threads pay.
@inline(__always)
func forEachChunk(_ count: Int, elementsPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = count * elementsPerItem >= 2 * ParallelChunks.minimumElements ? ParallelChunks.threads : 1
    let chunks = Swift.min(threads, count, count * elementsPerItem / ParallelChunks.minimumElements)
    guard chunks > 1 else {
        body(0..<count)
        return
    }
    let size = (count + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        let chunkBody = ChunkBody(run: body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * size
            if start < count { chunkBody.run(start..<Swift.min(count, start + size)) }
        }
    }
}

/// Carries a chunk loop into `concurrentPerform`, which returns only when every chunk has run (so the closure
/// never outlives the call) and whose chunks touch disjoint ranges of the output.
private struct ChunkBody: @unchecked Sendable {
    let run: (Range<Int>) -> Void
}

/// How many threads elementwise kernels use, and the size below which they stay on the calling thread.
public enum ParallelChunks {
    /// Elements per thread below which a kernel runs inline (waking a thread costs more than the work).
    public static let minimumElements = 1 << 15

    /// Set within a task to run the kernels on this many threads whatever BLAS uses (tests compare 1 and N).
    @TaskLocal public static var threadsOverride: Int?

    /// The threads a large elementwise kernel uses: ``threadsOverride``, else ``BLAS/threads``.
    public static var threads: Int { threadsOverride ?? BLAS.threads }
}
