import Tensors

/// y = x·Wᵀ + b with W stored `[out, in]` (the layout of PyTorch and safetensors checkpoints).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    /// Kaiming-uniform initialisation as in PyTorch: U(−1/√in, 1/√in) for weight and bias.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, using: &rng, requiresGrad: true)
        self.bias = bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, using: &rng, requiresGrad: true) : nil
    }

    public var localTensors: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = x.matmul(weight, transposeB: true)
        return bias.map { y + $0 } ?? y
    }
}

/// A lookup table of `count` vectors of size `dimension`.
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ count: Int, _ dimension: Int, std: Float = 0.02, rng: inout RandomGenerator) {
        weight = Tensor.normal([count, dimension], std: std, using: &rng, requiresGrad: true)
    }

    public var localTensors: [(String, Tensor)] { [("weight", weight)] }
    public var rowSparseTensorNames: [String] { ["weight"] }

    /// Rows for integer ids; the result has shape `shape + [dimension]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        precondition(ids.count == Tensor.count(of: shape), "Embedding: \(ids.count) ids for shape \(shape)")
        return weight.indexSelect(ids).reshaped(shape + [weight.shape[1]])
    }
}

/// Layer normalisation over the last axis, with learned scale (`weight`) and shift (`bias`).
public final class LayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let epsilon: Float

    public init(_ dimension: Int, epsilon: Float = 1e-5) {
        weight = Tensor.ones([dimension], requiresGrad: true)
        bias = Tensor.zeros([dimension], requiresGrad: true)
        self.epsilon = epsilon
    }

    public var localTensors: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.layerNormalized(weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// Inverted dropout: zeroes elements with probability `p` in training and scales the rest by 1/(1−p).
/// Masks come from the forward context's generator, so restoring its state replays the same masks.
public final class Dropout: Module {
    public let probability: Float

    public init(_ probability: Float) {
        precondition(probability >= 0 && probability < 1, "Dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        guard context.training, probability > 0 else { return x }
        let keep = 1 - probability
        let mask = Tensor.bernoulli(x.shape, probability: keep, value: 1 / keep, using: &context.rng)
        return x * mask
    }
}

/// Pointwise activations by name (used in configs).
public enum Activation: String, Codable, Sendable {
    case relu, gelu, tanh, sigmoid

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .gelu: x.gelu()
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        }
    }
}
