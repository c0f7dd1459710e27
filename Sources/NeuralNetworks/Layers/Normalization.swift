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
        let (output, mean, variance) = normalizedWithBatchStatistics(x, axes: axes, statShape: statShape)
        if context.updatesRunningStatistics {
            let n = Float(x.count / channels)
            let unbiased = variance.map { $0 * (n / Swift.max(n - 1, 1)) }
            withoutGrad {
                runningMean.assign(zip(runningMean.scalars, mean).map { $0 * (1 - momentum) + $1 * momentum })
                runningVariance.assign(zip(runningVariance.scalars, unbiased).map { $0 * (1 - momentum) + $1 * momentum })
            }
        }
        return output
    }

    /// (x − mean) / √(variance + ε) · γ + β with per-channel batch statistics, as one fused operation: the
    /// composition of broadcasting operations it replaces took most of a small CNN's training step (`winnow bench
    /// pruning --profile`). Its first-order backward is the closed form per channel (M values each):
    /// dβ = Σg, dγ = Σg·x̂, dx = γ/σ · (g − dβ/M − x̂·dγ/M). When the backward is itself recorded (double backward),
    /// the same formula is built from differentiable operations instead. Returns the batch mean and (biased)
    /// variance per channel for the running statistics.
    private func normalizedWithBatchStatistics(_ x: Tensor, axes: [Int], statShape: [Int]) -> (Tensor, [Float], [Float]) {
        let channels = weight.count
        let plane = x.rank == 2 ? 1 : x.shape[2] * x.shape[3]
        let batch = x.shape[0]
        let perChannel = batch * plane
        var mean = [Float](repeating: 0, count: channels), inverse = [Float](repeating: 0, count: channels)
        var variance = [Float](repeating: 0, count: channels)
        var normalized = [Float](repeating: 0, count: x.count)
        let gamma = weight.scalars, beta = bias.scalars, epsilon = epsilon
        let output = Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { input in
                normalized.withUnsafeMutableBufferPointer { xhat in
                    for c in 0..<channels {
                        var sum = 0.0
                        for n in 0..<batch {
                            let base = (n * channels + c) * plane
                            for k in 0..<plane { sum += Double(input[base + k]) }
                        }
                        let m = Float(sum / Double(perChannel))
                        var squares = 0.0
                        for n in 0..<batch {
                            let base = (n * channels + c) * plane
                            for k in 0..<plane { let d = input[base + k] - m; squares += Double(d * d) }
                        }
                        let v = Float(squares / Double(perChannel))
                        let inv = 1 / (v + epsilon).squareRoot()
                        mean[c] = m; variance[c] = v; inverse[c] = inv
                        let (g, b) = (gamma[c], beta[c])
                        for n in 0..<batch {
                            let base = (n * channels + c) * plane
                            for k in 0..<plane {
                                let h = (input[base + k] - m) * inv
                                xhat[base + k] = h
                                out[base + k] = h * g + b
                            }
                        }
                    }
                }
            }
        }
        let (weight, bias) = (self.weight, self.bias)
        let result = output.recorded("batchNorm", [x, weight, bias]) { [normalized, inverse] g, _ in
            if GradMode.isEnabled {
                // Recorded backward: the closed form from differentiable operations.
                let centered = x - x.mean(axes: axes, keepDims: true)
                let inv = ((centered * centered).mean(axes: axes, keepDims: true) + epsilon).rsqrt()
                let xhat = centered * inv
                let dBeta = g.sum(axes: axes, keepDims: true), dGamma = (g * xhat).sum(axes: axes, keepDims: true)
                let scale = 1 / Float(perChannel)
                let dx = weight.reshaped(statShape) * inv * (g - dBeta * scale - xhat * dGamma * scale)
                return [dx, dGamma.reshaped([channels]), dBeta.reshaped([channels])]
            }
            var dGamma = [Float](repeating: 0, count: channels), dBeta = [Float](repeating: 0, count: channels)
            let dx = Tensor(shape: x.shape) { dxOut in
                g.withUnsafeBufferPointer { grad in
                    for c in 0..<channels {
                        var sumG = 0.0, sumGX = 0.0
                        for n in 0..<batch {
                            let base = (n * channels + c) * plane
                            for k in 0..<plane { sumG += Double(grad[base + k]); sumGX += Double(grad[base + k] * normalized[base + k]) }
                        }
                        dBeta[c] = Float(sumG); dGamma[c] = Float(sumGX)
                        let a = Float(sumG) / Float(perChannel), b = Float(sumGX) / Float(perChannel)
                        let factor = gamma[c] * inverse[c]
                        for n in 0..<batch {
                            let base = (n * channels + c) * plane
                            for k in 0..<plane { dxOut[base + k] = factor * (grad[base + k] - a - normalized[base + k] * b) }
                        }
                    }
                }
            }
            return [dx, Tensor(shape: [channels], storage: dGamma), Tensor(shape: [channels], storage: dBeta)]
        }
        return (result, mean, variance)
    }
}

/// A 2-D convolution layer, weight `[out, in, k, k]`.
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, rng: inout RandomGenerator
    ) {
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
