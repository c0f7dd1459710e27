import Foundation

/// The parts of training steps whose wall-clock time the engine measures (`PhaseClock`).
public enum StepPhase: String, CaseIterable, Codable, Sendable {
    /// The base loss on the base batch (the base model, and the meta nets that weight it).
    case baseForward = "base forward"
    /// The base loss's backward to θ (with several ranks: launching the gradient all-reduce as gradients come;
    /// the wait after backward is `AllReduceStatistics.waitSeconds`, not here).
    case baseBackward = "base backward"
    /// The base optimizer's step (and gradient clipping).
    case baseOptimizer = "base optimizer"
    /// The meta loss on a meta batch and its backward to θ and λ.
    case metaForwardBackward = "meta forward+backward"
    /// SAMA: applying the base optimizer's adaptation, v = A ⊙ ∂L_meta/∂θ, and its norm, block by block as the
    /// meta backward streams ∂L_meta/∂θ (timed inside that backward and not counted in it).
    case adaptation = "adaptation"
    /// The passes of the base loss a hypergradient needs beyond that: the two perturbed forwards and backwards
    /// to λ of SAMA, SAMA-NA and DARTS (with several ranks including the wait for λ's all-reduce), or the
    /// Hessian-vector and mixed products of Neumann and CG.
    case hypergradientBasePasses = "hypergradient base passes"
    /// The meta optimizer's step on λ.
    case metaOptimizer = "meta optimizer"
}

extension StepPhase {
    /// The prefix of the per-epoch metrics that hold the seconds spent in each phase (`BilevelRun`).
    public static let metricPrefix = "phase_seconds."

    /// This phase's per-epoch metric: `phase_seconds.base_forward`, `phase_seconds.meta_forward_backward`, ...
    public var metricName: String {
        Self.metricPrefix + rawValue.replacingOccurrences(of: "+", with: "_").replacingOccurrences(of: " ", with: "_")
    }
}

/// Wall-clock seconds spent in each `StepPhase` so far. The engine owns one and times every step with it; a
/// benchmark reads differences of `seconds` around the steps it times. A phase measured inside another counts
/// for itself only: its time is taken out of the enclosing phase, so the phases never add up to more than the
/// wall clock.
public final class PhaseClock {
    /// Seconds per phase since the clock was made (phases never entered are absent).
    public private(set) var seconds: [StepPhase: Double] = [:]
    /// For each phase being measured, outermost first: the seconds of the phases measured inside it so far.
    private var nestedSeconds: [Double] = []

    public init() {}

    /// Runs `body`, adding its wall-clock time, less that of phases measured inside it, to `phase`.
    public func measure<T>(_ phase: StepPhase, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        nestedSeconds.append(0)
        defer {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let inner = nestedSeconds.removeLast()
            seconds[phase, default: 0] += elapsed - inner
            if !nestedSeconds.isEmpty { nestedSeconds[nestedSeconds.count - 1] += elapsed }
        }
        return try body()
    }
}
