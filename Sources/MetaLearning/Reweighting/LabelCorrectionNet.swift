import Foundation
import NeuralNetworks
import Tensors

/// Meta Label Correction (Zheng et al. 2021) as in docs/ALGORITHMS.md §6: the corrected label distribution
///     ŷ = softmax(MLP([h ; E(ỹ)]))     (h: detached penultimate feature, E: learned label embedding,
///                                        MLP: two tanh hidden layers)
/// with an optional learned gate a = σ(γ): ŷ ← (1 − a)·ŷ + a·ỹ, which lets the meta problem decide how much
/// to trust the weak label as a whole. ỹ may be soft (a majority-vote tie); E(ỹ) is then the mixture.
/// Keys: `label_embedding`, `net.layers.N.*`, `gate` (if gated).
public final class LabelCorrectionNet: Module {
    public let labelEmbedding: Tensor
    public let network: MLP
    public let gate: Tensor?
    public let classCount: Int

    /// - Parameters:
    ///   - featureWidth: width of h. - embeddingWidth, hidden: E's dimension and the hidden widths (128 in §6).
    ///   - gated: learn the gate, starting at a = σ(gateLogit).
    public init(
        featureWidth: Int, classes: Int, embeddingWidth: Int = 128, hidden: Int = 128, gated: Bool = true,
        gateLogit: Float = 0, rng: inout RandomGenerator
    ) {
        labelEmbedding = Tensor.normal([classes, embeddingWidth], std: 0.1, using: &rng, requiresGrad: true)
        network = MLP(widths: [featureWidth + embeddingWidth, hidden, hidden, classes], activation: .tanh, rng: &rng)
        gate = gated ? Tensor(shape: [1], storage: [gateLogit], requiresGrad: true) : nil
        classCount = classes
    }

    public var localTensors: [(String, Tensor)] {
        [("label_embedding", labelEmbedding)] + (gate.map { [("gate", $0)] } ?? [])
    }
    public var children: [(String, any Module)] { [("net", network)] }

    /// Corrected distributions `[N, C]` from features `[N, F]` (detached here) and weak label distributions `[N, C]`.
    public func callAsFunction(features: Tensor, weakLabels: Tensor) -> Tensor {
        precondition(
            weakLabels.shape == [features.shape[0], classCount],
            "LabelCorrectionNet: weak labels \(weakLabels.shape) for \(features.shape[0]) samples and \(classCount) classes")
        let input = Tensor.concatenate([features.detached(), weakLabels.matmul(labelEmbedding)], axis: 1)
        let corrected = network(input, .evaluation()).softmax()
        guard let gate else { return corrected }
        let a = gate.sigmoid()
        return corrected * (1 - a) + weakLabels * a
    }

    /// The gate's current value a (nil when not gated).
    public var gateValue: Float? { gate.map { 1 / (1 + Foundation.exp(-$0.item)) } }
}
