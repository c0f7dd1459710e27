import NeuralNetworks
import Tensors

/// An exponential moving average of a model, kept in a second instance of the same architecture: after every
/// call of `update()` (the caller makes one per optimizer step), each tensor of the average becomes
/// `decay · average + (1 − decay) · live`, parameters and buffers (BatchNorm running statistics) alike. A real
/// running average of the whole model, not a copy of a part of it.
public final class ModelAverage<Model: Module> {
    /// The averaged model; evaluate it like the live one.
    public let average: Model
    /// Weight of the old average in each update, in [0, 1).
    public let decay: Float
    /// Updates made so far.
    public private(set) var updates = 0
    private let pairs: [(key: String, live: Tensor, average: Tensor)]

    /// Starts the average at the live model's current values. `average` must have the live model's keys and shapes.
    public init(of live: Model, into average: Model, decay: Float) {
        precondition(decay >= 0 && decay < 1, "ModelAverage decay must be in [0, 1), got \(decay)")
        let liveTensors = live.namedTensors(), averageTensors = average.namedTensors()
        precondition(liveTensors.map(\.key) == averageTensors.map(\.key), "ModelAverage: the two models have different keys")
        pairs = zip(liveTensors, averageTensors).map { live, average in
            precondition(live.tensor.shape == average.tensor.shape,
                         "ModelAverage: \(live.key) has shapes \(live.tensor.shape) and \(average.tensor.shape)")
            average.tensor.assign(live.tensor.detached())
            return (live.key, live.tensor, average.tensor)
        }
        self.average = average
        self.decay = decay
    }

    /// average ← decay · average + (1 − decay) · live, for every tensor.
    public func update() {
        let keep = decay, take = 1 - decay
        for (_, live, average) in pairs {
            live.withUnsafeBufferPointer { l in
                average.withUnsafeMutableBufferPointer { a in
                    for i in 0..<a.count { a[i] = keep * a[i] + take * l[i] }
                }
            }
        }
        updates += 1
    }

    /// The average's tensors under `prefix` + key (for checkpoints: `ResumableProgram.stateTensors`).
    public func stateTensors(prefix: String) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: pairs.map { (prefix + $0.key, $0.average.detached()) })
    }

    /// Restores what `stateTensors(prefix:)` wrote; throws naming the first missing or misshapen key.
    public func restore(_ tensors: [String: Tensor], prefix: String) throws {
        for (key, _, average) in pairs {
            guard let value = tensors[prefix + key], value.shape == average.shape else {
                throw ProgramCheckpointError.mismatch("checkpoint", "model average tensor '\(prefix + key)' missing or of another shape")
            }
            average.assign(value)
        }
    }
}

/// How far the live model's predictions are from its moving average's, per sample (the uncertainty input of the
/// data-pruning weight net, docs/ALGORITHMS.md §8).
public enum PredictionDisagreement {
    /// KL(p_avg ‖ p_live) = Σ_c p_avg,c · (log p_avg,c − log p_live,c) per row of `[N, C]` logits, detached:
    /// 0 when the two agree, larger the more the live model has moved away from its average on that sample.
    public static func kl(liveLogits: Tensor, averageLogits: Tensor) -> Tensor {
        precondition(liveLogits.shape == averageLogits.shape && liveLogits.rank == 2,
                     "PredictionDisagreement.kl: logits \(liveLogits.shape) and \(averageLogits.shape)")
        return withoutGrad {
            let logLive = liveLogits.logSoftmax(), logAverage = averageLogits.logSoftmax()
            return (logAverage.exp() * (logAverage - logLive)).sum(axes: [1])
        }
    }
}
