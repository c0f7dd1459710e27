import Distributed
import NeuralNetworks
import Optimizers
import Tensors

/// The passes the hypergradient methods share: the meta gradient, and base-loss evaluations on the last
/// base batch that replay its dropout masks and leave BatchNorm statistics alone. The engine builds one per
/// meta step and hands it to the method's `Hypergradient.compute`.
public struct MetaStepPasses<Program: BilevelProgram> {
    let program: Program
    let lastBatch: Program.Batch
    /// The forward context of the last base step, rewound to where that step started.
    let replayContext: ForwardContext
    let metaContext: ForwardContext
    /// With several ranks: the mean all-reduce a method may feed from its last λ backward (overlap).
    var lambdaReducer: BucketedAllReduce? = nil
    /// The last base gradient, when perturbations are restricted to the parameters it touches.
    var touchedBy: [TouchedMask]? = nil
    /// The largest row block of a streamed meta gradient (`metaGradients(streamingTheta:)`).
    var streamBlockElements = 1 << 18
    /// The base step the meta step follows (for errors).
    var baseStep = 0
    /// Free the base optimizer's state for A (Adam's last gradient) as soon as it is used: the engine's own
    /// meta steps set it, since the next base step replaces that state anyway.
    var releasesAdaptationState = false
    /// The engine's clock: the meta gradient and the base-loss passes add their time to it.
    var phases: PhaseClock? = nil

    /// Runs `body`, timing it as `phase` on the engine's clock when there is one.
    func measure<T>(_ phase: StepPhase, _ body: () throws -> T) rethrows -> T {
        guard let phases else { return try body() }
        return try phases.measure(phase, body)
    }

    /// ∂L_meta/∂θ and the direct term ∂L_meta/∂λ, on a fresh meta batch.
    func metaGradients() -> (theta: [Tensor], direct: [Tensor], loss: Float) {
        measure(.metaForwardBackward) {
            let loss = freshMetaLoss()
            let thetaCount = program.base.parameters.count
            let grads = Autodiff.gradients(of: loss, wrt: program.base.tensors + program.meta.tensors)
            return (Array(grads[..<thetaCount]), Array(grads[thetaCount...]), loss.item)
        }
    }

    /// The direct term ∂L_meta/∂λ on a fresh meta batch, with ∂L_meta/∂θ streamed to `consumeTheta` in row
    /// blocks (θ's index, rows, scratch values; `Autodiff.gradients(of:wrt:streaming:)`), so the meta gradient
    /// of a large weight never exists whole.
    func metaGradients(
        streamingTheta consumeTheta: @escaping (Int, Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void
    )
        -> (direct: [Tensor], loss: Float)
    {
        measure(.metaForwardBackward) {
            let loss = freshMetaLoss()
            let thetaCount = program.base.parameters.count
            let streaming = Autodiff.RowStreaming(
                targets: Set(0..<thetaCount), blockElements: streamBlockElements, consume: consumeTheta)
            let grads = Autodiff.gradients(of: loss, wrt: program.base.tensors + program.meta.tensors, streaming: streaming)
            return (grads[thetaCount...].map { $0! }, loss.item)
        }
    }

    /// L_meta on the next meta batch, recorded for backward.
    private func freshMetaLoss() -> Tensor { program.metaLoss(program.nextMetaBatch(), context: metaContext) }

    /// L_base on the last base batch with the replayed context (same dropout masks every call), recording or
    /// replaying the meta nets' inputs in `metaInputs` if given.
    func replayedBaseLoss(metaInputs: MetaInputRecording? = nil) -> Tensor {
        let context = ForwardContext(training: replayContext.training, updatesRunningStatistics: false)
        context.rng = replayContext.rng
        context.inputReplay = metaInputs
        return program.baseLoss(lastBatch, context: context)
    }

    /// ∂L_base/∂λ at the current θ, with θ treated as a constant (nothing of the base model is recorded).
    func baseGradientForMeta(metaInputs: MetaInputRecording? = nil, onGradientReady: ((Int, Tensor) -> Void)? = nil) -> [Tensor] {
        measure(.hypergradientBasePasses) {
            let theta = program.base.tensors
            let saved = theta.map(\.requiresGrad)
            for t in theta { t.requiresGrad = false }
            defer { for (t, flag) in zip(theta, saved) { t.requiresGrad = flag } }
            return Autodiff.gradients(
                of: replayedBaseLoss(metaInputs: metaInputs), wrt: program.meta.tensors, onGradientReady: onGradientReady)
        }
    }
}
