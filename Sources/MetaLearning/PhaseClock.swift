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
    /// The meta loss on a meta batch and its backward to θ and λ (for SAMA with the adaptation A ⊙ ∂L_meta/∂θ
    /// folded in as the backward streams it).
    case metaForwardBackward = "meta forward+backward"
    /// The passes of the base loss a hypergradient needs beyond that: the two perturbed forwards and backwards
    /// to λ of SAMA, SAMA-NA and DARTS (with several ranks including the wait for λ's all-reduce), or the
    /// Hessian-vector and mixed products of Neumann and CG.
    case hypergradientBasePasses = "hypergradient base passes"
    /// The meta optimizer's step on λ.
    case metaOptimizer = "meta optimizer"
}

/// Wall-clock seconds spent in each `StepPhase` so far. The engine owns one and times every step with it; a
/// benchmark reads differences of `seconds` around the steps it times.
public final class PhaseClock {
    /// Seconds per phase since the clock was made (phases never entered are absent).
    public private(set) var seconds: [StepPhase: Double] = [:]

    public init() {}

    /// Runs `body`, adding its wall-clock time to `phase`.
    public func measure<T>(_ phase: StepPhase, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds[phase, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }
}
