import Testing
import WinnowTestSupport
@testable import Tensors

/// Elementwise kernels split over threads: every item once, and the same bits as on one thread.
@Suite struct ParallelChunksTests {
    @Test func chunksCoverEveryItemExactlyOnce() {
        for threads in [1, 2, 3, 4] {
            for count in [0, 1, 7, 65_535, 65_536, 100_003, 300_000] {
                let seen = ParallelChunks.$threadsOverride.withValue(threads) { () -> [Int] in
                    var hits = [Int](repeating: 0, count: count)
                    hits.withUnsafeMutableBufferPointer { buffer in
                        forEachChunk(count) { range in for i in range { buffer[i] += 1 } }
                    }
                    return hits
                }
                #expect(seen.allSatisfy { $0 == 1 }, "threads \(threads), count \(count)")
            }
        }
    }

    @Test func largeChunksRunOnSeveralThreads() {
        let chunks = ParallelChunks.$threadsOverride.withValue(2) { () -> Int in
            var starts = [Int](repeating: -1, count: 2)
            starts.withUnsafeMutableBufferPointer { buffer in
                forEachChunk(4 * ParallelChunks.minimumElements) { range in
                    buffer[range.lowerBound == 0 ? 0 : 1] = range.lowerBound
                }
            }
            return starts.filter { $0 >= 0 }.count
        }
        #expect(chunks == 2)
    }

    /// Equal shapes, a scalar, a row broadcast, unary functions, the GELU derivative, softmax and row sums.
    @Test func kernelsGiveTheSameBitsOnOneAndOnSeveralThreads() {
        let a = randomTensor([256, 384], seed: 1, low: -3, high: 3), b = randomTensor([256, 384], seed: 2)
        let row = randomTensor([384], seed: 3), scalar = Tensor(shape: [], storage: [0.7])
        func results() -> [[Float]] {
            [
                (a * b).scalars, (a + scalar).scalars, (scalar - a).scalars, (a * row).scalars, (row - a).scalars,
                a.gelu().scalars, a.geluDerivative().scalars, a.tanh().scalars, a.softmax().scalars,
                a.logSoftmax().scalars, a.sum(axes: [-1]).scalars,
            ]
        }
        let one = ParallelChunks.$threadsOverride.withValue(1) { results() }
        let two = ParallelChunks.$threadsOverride.withValue(2) { results() }
        let three = ParallelChunks.$threadsOverride.withValue(3) { results() }
        for (index, reference) in one.enumerated() {
            #expect(two[index] == reference && three[index] == reference, "result \(index) differs between thread counts")
        }
    }
}
