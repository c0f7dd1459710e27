import NeuralNetworks
import Optimizers
import Tensors

/// SAMA, SAMA-NA and DARTS: first-order hypergradients from a central difference of ∂L_base/∂λ along
/// v = A ⊙ ∂L_meta/∂θ (ALGORITHMS.md §2):
///     ε = α/‖v‖,  dL/dλ = ∂L_meta/∂λ + (g⁻ − g⁺)/(2ε),  g± = ∂L_base(θ ± εv, λ; B)/∂λ.
struct FiniteDifferenceHypergradient {
    /// Use the base optimizer's ∂u/∂g as A (SAMA); identity otherwise (SAMA-NA, DARTS).
    var adapt: Bool
    var alpha: Float
    /// Leave θ at θ − εv afterwards (the paper's SAMA); otherwise θ is restored exactly.
    var baseUpdateAlongV: Bool

    func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) -> MetaStepResult {
        let base = passes.program.base
        let (gMeta, direct, metaLoss) = passes.metaGradients()
        let v: [Tensor] = adapt
            ? withoutGrad { zip(base.optimizer.updateDerivative(base.parameters), gMeta).map { $0 * $1 } }
            : gMeta
        let norm = ParameterVectors.norm(v)
        guard norm > 0, norm.isFinite else { return MetaStepResult(hypergradient: direct, metaLoss: metaLoss, epsilon: nil) }
        let epsilon = alpha / Float(norm)
        let theta = base.tensors
        let original = theta.map(\.storage)
        ParameterVectors.addScaled(theta, epsilon, v)
        let gPlus = passes.baseGradientForMeta()
        for (t, saved) in zip(theta, original) { t.assign(saved) }
        ParameterVectors.addScaled(theta, -epsilon, v)
        let gMinus = passes.baseGradientForMeta()
        if !baseUpdateAlongV { for (t, saved) in zip(theta, original) { t.assign(saved) } }
        let hypergradient = withoutGrad {
            zip(direct, zip(gMinus, gPlus)).map { d, pair in d + (pair.0 - pair.1) * (1 / (2 * epsilon)) }
        }
        return MetaStepResult(hypergradient: hypergradient, metaLoss: metaLoss, epsilon: epsilon)
    }
}
