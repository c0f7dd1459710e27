// 2-D convolution (im2col + one sgemm) and pooling, NCHW layout.

/// Geometry of a 2-D sliding window over NCHW input.
public struct Window2D: Equatable, Sendable {
    public var kernel: (Int, Int)
    public var stride: (Int, Int)
    public var padding: (Int, Int)

    public init(kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.kernel = (kernel, kernel); self.stride = (stride, stride); self.padding = (padding, padding)
    }

    /// Output height and width for an input of `height`×`width`.
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding.0 - kernel.0) / stride.0 + 1, (width + 2 * padding.1 - kernel.1) / stride.1 + 1)
    }

    public static func == (a: Window2D, b: Window2D) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding
    }
}

extension Tensor {
    /// Unfolds windows: `[N, C, H, W]` → `[N·OH·OW, C·KH·KW]` (rows are output positions). Zero padding.
    public func im2col(_ window: Window2D) -> Tensor {
        precondition(rank == 4, "im2col needs [N, C, H, W], got \(shape)")
        let inputShape = shape
        let result = Tensor(shape: im2colShape(inputShape, window)) { out in
            withUnsafeBufferPointer { x in unfold(x, out, inputShape, window) }
        }
        return result.recorded("im2col", [self]) { g, _ in [g.col2im(window, inputShape: inputShape)] }
    }

    /// The adjoint of `im2col`: sums window columns back into `[N, C, H, W]`.
    public func col2im(_ window: Window2D, inputShape: [Int]) -> Tensor {
        let result = Tensor(shape: inputShape) { out in
            for i in 0..<out.count { out[i] = 0 }
            withUnsafeBufferPointer { cols in fold(cols, out, inputShape, window) }
        }
        return result.recorded("col2im", [self]) { g, _ in [g.im2col(window)] }
    }

    /// 2-D convolution: input `[N, C, H, W]`, weight `[OC, C, KH, KW]`, optional bias `[OC]`.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(
            rank == 4 && weight.rank == 4 && weight.shape[1] == shape[1],
            "conv2d: input \(shape) and weight \(weight.shape) disagree on channels")
        var window = Window2D(kernel: weight.shape[2], stride: stride, padding: padding)
        window.kernel = (weight.shape[2], weight.shape[3])
        let (oh, ow) = window.outputSize(height: shape[2], width: shape[3])
        let outChannels = weight.shape[0]
        let cols = im2col(window)  // [N·P, C·K·K]
        var y = cols.matmul(weight.reshaped([outChannels, -1]), transposeB: true)  // [N·P, OC]
        if let bias { y = y + bias }
        return y.reshaped([shape[0], oh, ow, outChannels]).permuted([0, 3, 1, 2])
    }

    /// Max pooling with a square window.
    public func maxPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        precondition(rank == 4, "maxPool2d needs [N, C, H, W], got \(shape)")
        let window = Window2D(kernel: kernel, stride: stride ?? kernel)
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = window.outputSize(height: h, width: w)
        var indices = [Int](repeating: 0, count: n * c * oh * ow)
        withUnsafeBufferPointer { x in
            var o = 0
            for plane in 0..<(n * c) {
                let base = plane * h * w
                for i in 0..<oh {
                    for j in 0..<ow {
                        var best = base + (i * window.stride.0) * w + j * window.stride.1
                        for di in 0..<kernel {
                            for dj in 0..<kernel {
                                let idx = base + (i * window.stride.0 + di) * w + (j * window.stride.1 + dj)
                                if x[idx] > x[best] { best = idx }
                            }
                        }
                        indices[o] = best
                        o += 1
                    }
                }
            }
        }
        return gatherFlat(indices, shape: [n, c, oh, ow])
    }

    /// Average pooling with a square window.
    public func avgPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        precondition(rank == 4, "avgPool2d needs [N, C, H, W], got \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let window = Window2D(kernel: kernel, stride: stride ?? kernel)
        let (oh, ow) = window.outputSize(height: h, width: w)
        let cols = reshaped([n * c, 1, h, w]).im2col(window)  // [N·C·P, K·K]
        return cols.mean(axes: [1]).reshaped([n, c, oh, ow])
    }

    /// Mean over the spatial axes: `[N, C, H, W]` → `[N, C]`.
    public func globalAvgPool2d() -> Tensor { mean(axes: [2, 3]) }
}

private func im2colShape(_ s: [Int], _ w: Window2D) -> [Int] {
    let (oh, ow) = w.outputSize(height: s[2], width: s[3])
    return [s[0] * oh * ow, s[1] * w.kernel.0 * w.kernel.1]
}

/// Visits every (column entry, input element) pair of the im2col matrix: `body(column index, input index)`,
/// with nil for taps that fall in the zero padding. `unfold` and `fold` are this loop with adjoint bodies.
@inline(__always)
private func forEachWindowTap(_ s: [Int], _ w: Window2D, _ body: (Int, Int?) -> Void) {
    let (n, c, h, wd) = (s[0], s[1], s[2], s[3])
    let (oh, ow) = w.outputSize(height: h, width: wd)
    let (kh, kw) = w.kernel
    let rowWidth = c * kh * kw
    for b in 0..<n {
        for i in 0..<oh {
            for j in 0..<ow {
                var column = ((b * oh + i) * ow + j) * rowWidth
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

private func unfold(_ x: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>, _ s: [Int], _ w: Window2D) {
    forEachWindowTap(s, w) { column, input in out[column] = input.map { x[$0] } ?? 0 }
}

private func fold(_ cols: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>, _ s: [Int], _ w: Window2D) {
    forEachWindowTap(s, w) { column, input in if let input { out[input] += cols[column] } }
}
