import Tensors

/// Batch normalisation over the channel axis 1 of `[N, C]` or `[N, C, H, W]` input.
///
/// In training it normalises with batch statistics and, if the context allows it, updates the running
/// statistics (`running_mean`, `running_var`, unbiased variance, PyTorch's momentum convention); in
/// evaluation it uses the running statistics.
public final class BatchNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVariance: Tensor
    public let momentum: Float
    public let epsilon: Float

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Tensor.ones([channels], requiresGrad: true)
        bias = Tensor.zeros([channels], requiresGrad: true)
        runningMean = Tensor.zeros([channels])
        runningVariance = Tensor.ones([channels])
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public var localTensors: [(String, Tensor)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVariance)]
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        precondition(x.rank == 2 || x.rank == 4, "BatchNorm needs [N, C] or [N, C, H, W], got \(x.shape)")
        let channels = weight.count
        precondition(x.shape[1] == channels, "BatchNorm over \(channels) channels got \(x.shape)")
        let axes = x.rank == 2 ? [0] : [0, 2, 3]
        let statShape = x.rank == 2 ? [1, channels] : [1, channels, 1, 1]
        let scale = weight.reshaped(statShape), shift = bias.reshaped(statShape)
        if !context.training {
            let inverse = (runningVariance + epsilon).rsqrt().reshaped(statShape)
            return (x - runningMean.reshaped(statShape)) * inverse * scale + shift
        }
        let mean = x.mean(axes: axes, keepDims: true)
        let centered = x - mean
        let variance = (centered * centered).mean(axes: axes, keepDims: true)
        if context.updatesRunningStatistics {
            let n = Float(x.count / channels)
            withoutGrad {
                let unbiased = variance.reshaped([channels]) * (n / Swift.max(n - 1, 1))
                runningMean.assign(runningMean * (1 - momentum) + mean.reshaped([channels]) * momentum)
                runningVariance.assign(runningVariance * (1 - momentum) + unbiased * momentum)
            }
        }
        return centered * (variance + epsilon).rsqrt() * scale + shift
    }
}

/// A 2-D convolution layer, weight `[out, in, k, k]`.
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RandomGenerator) {
        let fanIn = inChannels * kernel * kernel
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Tensor.uniform([outChannels, inChannels, kernel, kernel], low: -bound, high: bound, using: &rng, requiresGrad: true)
        self.bias = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, using: &rng, requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
    }

    public var localTensors: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }
}
