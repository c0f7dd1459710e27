// 2-D convolution (im2col + one sgemm) and pooling, NCHW layout. The window loops are C kernels (CKernels).

import CKernels

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
            withUnsafeBufferPointer { x in windowKernel(winnow_im2col, x, out, inputShape, window) }
        }
        return result.recorded("im2col", [self]) { g, _ in [g.col2im(window, inputShape: inputShape)] }
    }

    /// The adjoint of `im2col`: sums window columns back into `[N, C, H, W]`.
    public func col2im(_ window: Window2D, inputShape: [Int]) -> Tensor {
        precondition(
            inputShape.count == 4 && count == Tensor.count(of: im2colShape(inputShape, window)),
            "col2im: \(shape) does not have the elements of an im2col of \(inputShape)")
        let result = Tensor(shape: inputShape) { out in
            withUnsafeBufferPointer { cols in windowKernel(winnow_col2im, cols, out, inputShape, window) }
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
        let outputCount = n * c * oh * ow
        let (kh, kw, sh, sw) = (window.kernel.0, window.kernel.1, window.stride.0, window.stride.1)
        var indices = [Int](repeating: 0, count: outputCount)
        // The maxima and their flat positions in one pass (the positions are in range by construction).
        let result = Tensor(shape: [n, c, oh, ow]) { out in
            withUnsafeBufferPointer { x in
                indices.withUnsafeMutableBufferPointer { positions in
                    guard outputCount > 0 else { return }
                    winnow_max_pool2d(x.baseAddress, out.baseAddress, positions.baseAddress, n * c, h, w, kh, kw, sh, sw)
                }
            }
        }
        let inputShape = shape
        // The backward of gathering the maxima: the same as `gatherFlat(indices, shape:)`.
        return result.recorded("maxPool2d", [self]) { g, _ in [g.scatterAddFlat(indices, shape: inputShape)] }
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

/// Runs `winnow_im2col` or `winnow_col2im` (same arguments) from `source` into `destination` for input shape `s`.
/// An empty source is never read (every tap is then padding, or there is no window), so its nil address is passed.
private func windowKernel(
    _ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void,
    _ source: UnsafeBufferPointer<Float>, _ destination: UnsafeMutableBufferPointer<Float>, _ s: [Int], _ w: Window2D
) {
    guard destination.count > 0 else { return }
    kernel(
        source.baseAddress, destination.baseAddress, s[0], s[1], s[2], s[3], w.kernel.0, w.kernel.1, w.stride.0, w.stride.1,
        w.padding.0, w.padding.1)
}
