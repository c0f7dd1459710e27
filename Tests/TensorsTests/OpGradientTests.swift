import Testing
@testable import Tensors
import WinnowTestSupport

/// Finite-difference checks, first and second order, of every differentiable op.
@Suite struct OpGradientTests {
    @Test func arithmeticWithBroadcasting() {
        let a = randomTensor([3, 4], seed: 1), b = randomTensor([4], seed: 2), c = randomTensor([3, 1], seed: 3, low: 0.5, high: 1.5)
        expectDerivatives([a, b, c]) { (a + b) * a - a / c + (b - c) }
        let s = randomTensor([1], seed: 4)
        expectDerivatives([a, s]) { a * s + 2 * a - s / (a * a + 1.5) + (3 - a) * 0.5 }
    }

    @Test func generalBroadcastAndReductions() {
        let a = randomTensor([2, 1, 3], seed: 5), b = randomTensor([4, 1], seed: 6)
        expectDerivatives([a, b]) { a * b }
        let x = randomTensor([2, 3, 4], seed: 7)
        expectDerivatives([x]) { x.sum(axes: [1]) * x.mean(axes: [0, 2], keepDims: true).sum() }
        expectDerivatives([x]) { x.sum(axes: [-1], keepDims: true) * x }
        expectDerivatives([x]) { x.mean() * x.sum() }
    }

    @Test func pointwiseNonlinearities() {
        let x = randomTensor([5, 6], seed: 8, low: -2, high: 2)
        let positive = randomTensor([5, 6], seed: 9, low: 0.5, high: 2)
        expectDerivatives([x]) { x.exp() }
        expectDerivatives([x]) { x.tanh() }
        expectDerivatives([x]) { x.sigmoid() }
        expectDerivatives([x]) { x.gelu() }
        expectDerivatives([positive]) { positive.log() }
        expectDerivatives([positive]) { positive.sqrt() }
        expectDerivatives([positive]) { positive.rsqrt() }
        expectDerivatives([positive]) { positive.pow(1.7) }
        expectDerivatives([positive]) { 1 / positive }
        // Keep ReLU, abs and clamp inputs away from their kinks.
        let awayFromZero = Tensor(shape: [8], storage: [-1.3, -0.7, -0.4, 0.3, 0.6, 0.9, 1.4, -1.9])
        expectDerivatives([awayFromZero]) { awayFromZero.relu() * awayFromZero }
        expectDerivatives([awayFromZero]) { awayFromZero.abs() * awayFromZero }
        expectDerivatives([awayFromZero]) { awayFromZero.clamped(-1, 1) * awayFromZero }
    }

    @Test func softmaxFamily() {
        let x = randomTensor([4, 5], seed: 10, low: -3, high: 3)
        expectDerivatives([x]) { x.softmax() }
        expectDerivatives([x]) { x.logSoftmax() }
        let x3 = randomTensor([2, 3, 4], seed: 11)
        expectDerivatives([x3]) { x3.softmax() }
    }

    @Test func matrixProductsAllTransposes() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randomTensor(ta ? [4, 3] : [3, 4], seed: 12), b = randomTensor(tb ? [5, 4] : [4, 5], seed: 13)
            expectDerivatives([a, b]) { a.matmul(b, transposeA: ta, transposeB: tb) }
            let ba = randomTensor(ta ? [2, 4, 3] : [2, 3, 4], seed: 14), bb = randomTensor(tb ? [2, 5, 4] : [2, 4, 5], seed: 15)
            expectDerivatives([ba, bb]) { ba.matmul(bb, transposeA: ta, transposeB: tb) }
        }
        let x = randomTensor([2, 3, 4], seed: 16), w = randomTensor([5, 4], seed: 17)
        expectDerivatives([x, w]) { x.matmul(w, transposeB: true) }
    }

    @Test func shapingOps() {
        let x = randomTensor([2, 3, 4], seed: 18), y = randomTensor([2, 2, 4], seed: 19)
        expectDerivatives([x]) { x.reshaped([6, 4]) * x.reshaped([6, 4]) }
        expectDerivatives([x]) { x.permuted([2, 0, 1]) }
        expectDerivatives([x]) { x.transposed(0, 2) * x.transposed(0, 2) }
        expectDerivatives([x]) { x.slice(axis: 1, 1..<3) }
        expectDerivatives([x, y]) { Tensor.concatenate([x, y, x], axis: 1) }
        expectDerivatives([x]) {
            let p = x.split(axis: 2, sizes: [1, 3]); return p[0] * p[1]
        }
    }

    @Test func gatherAndScatter() {
        let table = randomTensor([5, 3], seed: 20)
        expectDerivatives([table]) { table.indexSelect([4, 0, 4, 2]) }
        let rows = randomTensor([4, 3], seed: 21)
        expectDerivatives([rows]) { rows.indexAdd([1, 1, 0, 3], into: [5, 3]) }
        let logits = randomTensor([4, 6], seed: 22)
        expectDerivatives([logits]) { logits.pick([0, 5, 2, 2]) }
        expectDerivatives([logits]) { logits.scatterAddFlat([0, 3, 3, 23] + Array(4..<24), shape: [30]) }
    }

    @Test func convolutionAndPooling() {
        let x = randomTensor([2, 3, 5, 5], seed: 23), w = randomTensor([4, 3, 3, 3], seed: 24), b = randomTensor([4], seed: 25)
        expectDerivatives([x, w, b]) { x.conv2d(weight: w, bias: b, stride: 1, padding: 1) }
        expectDerivatives([x, w]) { x.conv2d(weight: w, stride: 2, padding: 0) }
        expectDerivatives([x]) { x.avgPool2d(kernel: 2) }
        expectDerivatives([x]) { x.globalAvgPool2d() }
        // Distinct values so the max of each window is unique under the perturbation.
        let distinct = Tensor(shape: [1, 2, 4, 4], storage: (0..<32).map { Float(($0 * 7) % 32) * 0.1 })
        expectDerivatives([distinct]) { distinct.maxPool2d(kernel: 2) }
        // The C kernels' general paths: overlapping and 3-wide pooling windows, a rectangular strided kernel.
        let wide = Tensor(shape: [1, 2, 5, 5], storage: (0..<50).map { Float(($0 * 13) % 50) * 0.1 })
        expectDerivatives([wide]) { wide.maxPool2d(kernel: 2, stride: 1) }
        expectDerivatives([wide]) { wide.maxPool2d(kernel: 3, stride: 2) }
        let rectangular = randomTensor([3, 3, 2, 3], seed: 27)
        expectDerivatives([x, rectangular]) { x.conv2d(weight: rectangular, stride: 2, padding: 1) }
    }

    @Test func im2colAndCol2imDirectly() {
        let x = randomTensor([2, 2, 5, 4], seed: 28)
        for window in [Window2D(kernel: 3, padding: 1), Window2D(kernel: 2, stride: 2, padding: 1), Window2D(kernel: 4, stride: 3)] {
            expectDerivatives([x]) { x.im2col(window) }
            let cols = randomTensor(x.im2col(window).shape, seed: 29)
            expectDerivatives([cols]) { cols.col2im(window, inputShape: x.shape) }
        }
    }

    @Test func permutationsOfEveryKernelPath() {
        // Middle-axes swaps (NHWC ↔ NCHW, heads ↔ positions, a matrix transpose) and one general permutation.
        let x = randomTensor([2, 3, 4, 5], seed: 30)
        for order in [[0, 3, 1, 2], [0, 2, 3, 1], [0, 2, 1, 3], [1, 2, 3, 0], [3, 2, 1, 0]] {
            expectDerivatives([x]) { x.permuted(order) * x.permuted(order) }
        }
        let m = randomTensor([3, 4], seed: 31)
        expectDerivatives([m]) { m.transposed() }
    }

    @Test func aWrongGradientIsCaught() {
        // The checker itself must fail on a wrong derivative: d/dx of this op claims 2 instead of 1.
        let x = randomTensor([6], seed: 26)
        let report = GradientCheck.firstOrder(inputs: [x]) {
            x.detached().recorded("wrong", [x]) { g, _ in [g * 2] }
        }
        #expect(!report.passed)
    }
}
