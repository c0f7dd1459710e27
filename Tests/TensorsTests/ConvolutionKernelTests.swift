import Testing
@testable import Tensors
import WinnowTestSupport

/// Known answers of the convolution and pooling C kernels, and bit-for-bit agreement with the naive loops they replaced
/// (im2col, col2im, max pooling with its backward, permutations) over padded, strided, rectangular and odd geometries.
@Suite struct ConvolutionKernelTests {
    /// Window geometries covering the 3-wide, 2-wide and general kernel paths, padding wider than a tap row, strides.
    static let windows: [Window2D] = {
        var rectangular = Window2D(kernel: 2, stride: 1, padding: 1)
        rectangular.kernel = (2, 3)
        var uneven = Window2D(kernel: 3, stride: 2, padding: 0)
        uneven.stride = (1, 2)
        uneven.padding = (2, 1)
        return [
            Window2D(kernel: 3, padding: 1), Window2D(kernel: 3, stride: 2), Window2D(kernel: 2, stride: 2),
            Window2D(kernel: 1), Window2D(kernel: 5, stride: 3, padding: 2), Window2D(kernel: 2, padding: 3), rectangular,
            uneven,
        ]
    }()

    @Test func im2colKnownAnswer() {
        let x = Tensor(shape: [1, 1, 3, 3], storage: (1...9).map(Float.init))
        #expect(x.im2col(Window2D(kernel: 2)).storage == [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9])
        // Padding 1, stride 2: the four corners' windows, zeros outside.
        #expect(x.im2col(Window2D(kernel: 2, stride: 2, padding: 1)).storage == [0, 0, 0, 1, 0, 0, 2, 3, 0, 4, 0, 7, 5, 6, 8, 9])
        let cols = Tensor(shape: [4, 4], storage: [Float](repeating: 1, count: 16))
        // How many windows cover each pixel.
        #expect(cols.col2im(Window2D(kernel: 2), inputShape: [1, 1, 3, 3]).storage == [1, 2, 1, 2, 4, 2, 1, 2, 1])
    }

    @Test func im2colAndCol2imMatchTheNaiveLoopsBitForBit() {
        for (k, window) in Self.windows.enumerated() {
            // The last shape's windows mostly exceed im2col's band scratch (4,096 floats) and take its per-window path.
            for shape in [[2, 3, 7, 6], [1, 1, 4, 9], [3, 2, 5, 5], [1, 40, 4, 45]] {
                let x = randomTensor(shape, seed: UInt64(40 + k), low: -3, high: 3)
                let cols = x.im2col(window)
                #expect(cols.shape == naiveIm2colShape(shape, window))
                #expect(cols.storage == naiveIm2col(x.storage, shape, window), "im2col \(window.kernel) on \(shape)")
                let g = randomTensor(cols.shape, seed: UInt64(60 + k), low: -3, high: 3)
                #expect(
                    g.col2im(window, inputShape: shape).storage == naiveCol2im(g.storage, shape, window),
                    "col2im \(window.kernel) on \(shape)")
            }
        }
    }

    @Test func maxPoolKnownAnswerAndFirstOfTies() {
        let x = Tensor(shape: [1, 1, 2, 4], storage: [1, 5, 2, 7, 3, 4, 7, 0], requiresGrad: true)
        let y = x.maxPool2d(kernel: 2)
        #expect(y.shape == [1, 1, 1, 2] && y.storage == [5, 7])
        // The tie between the two 7s goes to the first in row order (flat position 3).
        let g = Autodiff.gradients(of: y, wrt: [x], seed: Tensor(shape: [1, 1, 1, 2], storage: [10, 20]))[0]
        #expect(g.storage == [0, 10, 0, 20, 0, 0, 0, 0])
    }

    @Test func maxPoolMatchesTheNaiveLoopBitForBit() {
        for (kernel, stride) in [(2, 2), (2, 1), (3, 2), (3, 3), (1, 1)] {
            for shape in [[2, 3, 8, 8], [1, 2, 7, 5]] {
                // Rounded values so windows hold ties.
                let raw = randomTensor(shape, seed: UInt64(80 + kernel * 10 + stride), low: -4, high: 4)
                let x = Tensor(shape: shape, storage: raw.storage.map { ($0 * 2).rounded() }, requiresGrad: true)
                let (values, indices) = naiveMaxPool(x.storage, shape, kernel: kernel, stride: stride)
                let y = x.maxPool2d(kernel: kernel, stride: stride)
                #expect(y.storage == values, "maxPool2d \(kernel)/\(stride) on \(shape)")
                let seed = randomTensor(y.shape, seed: 99)
                let g = Autodiff.gradients(of: y, wrt: [x], seed: seed)[0]
                var expected = [Float](repeating: 0, count: x.count)
                for (o, i) in indices.enumerated() { expected[i] += seed.storage[o] }
                #expect(g.storage == expected)
            }
        }
    }

    @Test func permutationsMatchTheStridedLoopBitForBit() {
        let shape = [3, 4, 5, 17]
        let x = randomTensor(shape, seed: 5)
        for order in [[0, 3, 1, 2], [0, 2, 3, 1], [0, 2, 1, 3], [1, 2, 3, 0], [3, 0, 1, 2], [0, 1, 3, 2], [2, 0, 3, 1]] {
            #expect(x.permuted(order).storage == naivePermute(x.storage, shape, order), "permutation \(order)")
        }
        #expect(middleAxesSwap([0, 3, 1, 2], [2, 5, 5, 16])! == (2, 25, 16, 1))
        #expect(middleAxesSwap([0, 2, 1, 3], [2, 3, 4, 5])! == (2, 3, 4, 5))
        #expect(middleAxesSwap([2, 0, 3, 1], shape) == nil)
        // A wide NHWC → NCHW over several tiles, with ragged edges.
        let nhwc = randomTensor([2, 33, 37, 19], seed: 6)
        #expect(nhwc.permuted([0, 3, 1, 2]).storage == naivePermute(nhwc.storage, nhwc.shape, [0, 3, 1, 2]))
    }
}

// MARK: - The loops the kernels replaced

private func naiveIm2colShape(_ s: [Int], _ w: Window2D) -> [Int] {
    let (oh, ow) = w.outputSize(height: s[2], width: s[3])
    return [s[0] * oh * ow, s[1] * w.kernel.0 * w.kernel.1]
}

/// Every (column entry, input element) pair of the im2col matrix, nil for taps in the padding.
private func forEachWindowTap(_ s: [Int], _ w: Window2D, _ body: (Int, Int?) -> Void) {
    let (n, c, h, wd) = (s[0], s[1], s[2], s[3])
    let (oh, ow) = w.outputSize(height: h, width: wd)
    let (kh, kw) = w.kernel
    var column = 0
    for b in 0..<n {
        for i in 0..<oh {
            for j in 0..<ow {
                for ch in 0..<c {
                    let plane = (b * c + ch) * h * wd
                    for di in 0..<kh {
                        let y = i * w.stride.0 - w.padding.0 + di
                        for dj in 0..<kw {
                            let x = j * w.stride.1 - w.padding.1 + dj
                            body(column, (y >= 0 && y < h && x >= 0 && x < wd) ? plane + y * wd + x : nil)
                            column += 1
                        }
                    }
                }
            }
        }
    }
}

private func naiveIm2col(_ x: [Float], _ s: [Int], _ w: Window2D) -> [Float] {
    var out = [Float](repeating: -1, count: Tensor.count(of: naiveIm2colShape(s, w)))
    forEachWindowTap(s, w) { column, input in out[column] = input.map { x[$0] } ?? 0 }
    return out
}

private func naiveCol2im(_ cols: [Float], _ s: [Int], _ w: Window2D) -> [Float] {
    var out = [Float](repeating: 0, count: Tensor.count(of: s))
    forEachWindowTap(s, w) { column, input in if let input { out[input] += cols[column] } }
    return out
}

private func naiveMaxPool(_ x: [Float], _ s: [Int], kernel: Int, stride: Int) -> ([Float], [Int]) {
    let (n, c, h, w) = (s[0], s[1], s[2], s[3])
    let (oh, ow) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1)
    var indices: [Int] = []
    for plane in 0..<(n * c) {
        let base = plane * h * w
        for i in 0..<oh {
            for j in 0..<ow {
                var best = base + (i * stride) * w + j * stride
                for di in 0..<kernel {
                    for dj in 0..<kernel {
                        let idx = base + (i * stride + di) * w + (j * stride + dj)
                        if x[idx] > x[best] { best = idx }
                    }
                }
                indices.append(best)
            }
        }
    }
    return (indices.map { x[$0] }, indices)
}

private func naivePermute(_ x: [Float], _ shape: [Int], _ order: [Int]) -> [Float] {
    let outShape = order.map { shape[$0] }
    var inStrides = [Int](repeating: 1, count: shape.count)
    for d in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * shape[d + 1] }
    var out: [Float] = []
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<x.count {
        out.append(x[zip(index, order).map { $0 * inStrides[$1] }.reduce(0, +)])
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < outShape[d] { break }
            index[d] = 0
            d -= 1
        }
    }
    return out
}
