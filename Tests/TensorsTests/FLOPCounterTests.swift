import Foundation
import Testing
@testable import Tensors
import WinnowTestSupport

/// FLOPCounter's known answers: 2·m·n·k per matrix product, whatever the transposes or batching, a convolution as
/// its im2col product, its backward as the two products of the chain rule, and only the calling thread's work.
@Suite struct FLOPCounterTests {
    @Test func matrixProductsCountTwoMNK() {
        let a = randomTensor([3, 4], seed: 1), b = randomTensor([4, 5], seed: 2)
        #expect(FLOPCounter.measure { a.matmul(b) }.flops == 2 * 3 * 5 * 4)
        let aT = randomTensor([4, 3], seed: 3), bT = randomTensor([5, 4], seed: 4)
        #expect(FLOPCounter.measure { aT.matmul(bT, transposeA: true, transposeB: true) }.flops == 2 * 3 * 5 * 4)
        let batchA = randomTensor([2, 3, 4], seed: 5), batchB = randomTensor([2, 4, 5], seed: 6)
        #expect(FLOPCounter.measure { batchA.matmul(batchB) }.flops == 2 * (2 * 3 * 5 * 4))
        // A linear layer on a [2, 3, 4] input: one product of the flattened [6, 4] rows.
        #expect(FLOPCounter.measure { batchA.matmul(b) }.flops == 2 * 6 * 5 * 4)
    }

    @Test func convolutionCountsItsProductForwardAndBackward() {
        let x = Tensor(shape: [2, 3, 6, 6], storage: randomTensor([2, 3, 6, 6], seed: 7).storage, requiresGrad: true)
        let w = Tensor(shape: [4, 3, 3, 3], storage: randomTensor([4, 3, 3, 3], seed: 8).storage, requiresGrad: true)
        // Padding 1 keeps 6×6 positions: [72, 27]·[27, 4].
        let forward = 2 * (2 * 36) * (3 * 9) * 4
        let (y, flops) = FLOPCounter.measure { x.conv2d(weight: w, padding: 1) }
        #expect(flops == forward)
        let seed = Tensor(shape: y.shape, storage: [Float](repeating: 1, count: y.count))
        // Backward: ∂cols = ∂y·W and ∂W = ∂yᵀ·cols, each as large as the forward product.
        #expect(FLOPCounter.measure { Autodiff.gradients(of: y, wrt: [x, w], seed: seed) }.flops == 2 * forward)
    }

    @Test func otherThreadsWorkIsNotCounted() {
        let a = randomTensor([8, 8], seed: 9)
        let done = DispatchSemaphore(value: 0)
        let (_, flops) = FLOPCounter.measure {
            Thread.detachNewThread {
                _ = a.matmul(a)
                done.signal()
            }
            done.wait()
            return a.matmul(a, transposeB: true)
        }
        #expect(flops == 2 * 8 * 8 * 8)
    }
}
