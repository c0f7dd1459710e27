import NeuralNetworks
import Tensors

/// Meta-Weight-Net (Shu et al. 2019): w = scale·σ(MLP(input)), one weight per sample from detached
/// per-sample statistics (loss; loss and uncertainty for pruning). Keys: `layers.0.*`, `layers.1.*`.
public final class MetaWeightNet: Module {
    public let network: MLP
    /// Output multiplier: 1 for MWN, 2 for the auxiliary-loss weights of docs/ALGORITHMS.md §7.
    public let scale: Float

    /// - Parameters:
    ///   - inputs: number of per-sample statistics (1: loss; 2: loss and uncertainty).
    ///   - zeroInitialisedOutput: start the output layer at 0 so every weight starts at scale·σ(0).
    public init(inputs: Int = 1, hidden: Int = 100, scale: Float = 1, zeroInitialisedOutput: Bool = false, rng: inout RandomGenerator) {
        network = MLP(widths: [inputs, hidden, 1], activation: .relu, rng: &rng)
        self.scale = scale
        if zeroInitialisedOutput {
            for (key, tensor) in network.namedParameters() where key.hasPrefix("layers.1.") { tensor.assign(Tensor.zeros(tensor.shape)) }
        }
    }

    public var children: [(String, any Module)] { [("net", network)] }

    /// Weights `[N]` for statistics `[N, inputs]`; the statistics are detached from whatever produced them.
    public func callAsFunction(_ statistics: Tensor) -> Tensor {
        let s = network(statistics.detached(), .evaluation()).sigmoid().reshaped([statistics.shape[0]])
        return scale == 1 ? s : s * scale
    }
}

/// How per-sample weights combine per-sample losses into the base loss.
public enum WeightNormalization: String, Codable, Sendable, CaseIterable {
    /// (1/N) Σ wᵢ·ℓᵢ, the formula of the papers.
    case mean
    /// Σ wᵢ·ℓᵢ / Σ wᵢ: invariant to a uniform rescaling of the weights. With an Adam base optimizer that
    /// rescaling changes nothing in the update, so a meta gradient dominated by it separates nothing;
    /// normalising removes that direction and leaves only the relative weighting to learn.
    case weightSum = "weight_sum"

    /// The base loss from per-sample losses `[N]` and weights `[N]`.
    public func combine(losses: Tensor, weights: Tensor) -> Tensor {
        switch self {
        case .mean: (weights * losses).mean()
        case .weightSum: (weights * losses).sum() / (weights.sum() + 1e-8)
        }
    }
}
