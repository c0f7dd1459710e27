import Foundation

/// A learning-rate schedule: a factor applied to the base learning rate at each step (0-based).
public enum LearningRateSchedule: Codable, Sendable, Equatable {
    case constant
    /// Linear warm-up from 0 over `warmupSteps`, then cosine decay to `minimumFactor` at `totalSteps`.
    case cosine(totalSteps: Int, warmupSteps: Int = 0, minimumFactor: Float = 0)
    /// Linear warm-up from 0 over `warmupSteps`, then linear decay to 0 at `totalSteps`.
    case linear(totalSteps: Int, warmupSteps: Int = 0)
    /// Step decay: the factor is multiplied by `gamma` at each milestone step (`gamma^k` once k milestones ≤ step).
    case multiStep(milestones: [Int], gamma: Float)

    /// The multiplier of the base learning rate at `step`.
    public func factor(at step: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case let .cosine(total, warmup, minimum):
            if step < warmup { return Float(step + 1) / Float(warmup) }
            let progress = min(1, Float(step - warmup) / Float(max(1, total - warmup)))
            return minimum + (1 - minimum) * 0.5 * (1 + Float(Foundation.cos(Double.pi * Double(progress))))
        case let .linear(total, warmup):
            if step < warmup { return Float(step + 1) / Float(warmup) }
            return max(0, Float(total - step) / Float(max(1, total - warmup)))
        case let .multiStep(milestones, gamma):
            var factor: Float = 1
            for milestone in milestones where step >= milestone { factor *= gamma }
            return factor
        }
    }
}
