import Foundation
import NeuralNetworks
import Tensors

/// The classical pruning scores and the names they are recorded under (`RunRecorder.recordScores(_:name:...)`).
///
/// Every score is stored so that **higher means more worth keeping**: a manifest keeps the top fraction. Most
/// baselines keep the hardest samples, so the hard end is the high end (docs/SCHEMA.md lists each convention).
public enum PruningScore: String, CaseIterable, Sendable {
    /// ‖softmax(f(x)) − onehot(y)‖₂ early in training, averaged over seeds (Paul et al. 2021). Stored as is.
    case el2n
    /// ‖∇θ ℓ(x, y)‖₂ over all parameters, averaged over seeds (Paul et al. 2021). Stored as is.
    case grand
    /// Correct → incorrect transitions between consecutive presentations over a run (Toneva et al. 2019);
    /// never-learned samples get one more than the most presentations any sample had. Stored as is.
    case forgetting
    /// Probability margin p_y − max_{k≠y} p_k of a trained model, stored **negated** (low margin = kept).
    case margin
    /// 1 − max_k p_k of a trained model. Stored as is (unconfident = kept).
    case leastConfidence = "least_confidence"
    /// Area under the margin: mean over presentations of z_y − max_{k≠y} z_k (logits, training mode; Pleiss et
    /// al. 2020), stored **negated** (low AUM = kept); a sample never presented gets 0.
    case aum
    /// Class-balanced random: within each class a random permutation, scored (rank + ½) / class size, so pruning
    /// any fraction removes that fraction of every class (±1 sample).
    case random
}

/// Scores computed from one set of logits (known-answer functions; rows of `logits` are samples).
public enum LogitScores {
    /// EL2N of each row: ‖softmax(z) − onehot(y)‖₂.
    public static func el2n(logits: Tensor, labels: [Int]) -> [Double] {
        rows(logits, labels) { p, _, y in
            var total = 0.0
            for k in p.indices { let d = p[k] - (k == y ? 1 : 0); total += d * d }
            return total.squareRoot()
        }
    }

    /// The stored `margin` score of each row: max_{k≠y} p_k − p_y (the probability margin, negated).
    public static func negatedMargin(logits: Tensor, labels: [Int]) -> [Double] {
        rows(logits, labels) { p, _, y in -(p[y] - largestOther(p, y)) }
    }

    /// 1 − max_k p_k of each row.
    public static func leastConfidence(logits: Tensor, labels: [Int]) -> [Double] {
        rows(logits, labels) { p, _, _ in 1 - (p.max() ?? 0) }
    }

    /// The logit margin z_y − max_{k≠y} z_k of each row (AUM's per-presentation term).
    public static func logitMargin(logits: Tensor, labels: [Int]) -> [Double] {
        rows(logits, labels) { _, z, y in z[y] - largestOther(z, y) }
    }

    /// Whether each row's argmax is its label (ties go to the lowest class, as `argmaxLastAxis`).
    public static func correct(logits: Tensor, labels: [Int]) -> [Bool] {
        zip(logits.argmaxLastAxis(), labels).map { $0 == $1 }
    }

    static func largestOther(_ values: [Double], _ label: Int) -> Double {
        var best = -Double.infinity
        for k in values.indices where k != label { best = max(best, values[k]) }
        return best
    }

    /// Calls `body(probabilities, logits, label)` per row, in Double (softmax with the maximum subtracted).
    private static func rows(_ logits: Tensor, _ labels: [Int], _ body: ([Double], [Double], Int) -> Double) -> [Double] {
        precondition(logits.rank == 2 && logits.shape[0] == labels.count, "scores need [N, C] logits and N labels, got \(logits.shape)")
        let classes = logits.shape[1]
        return logits.withUnsafeBufferPointer { x in
            labels.enumerated().map { row, label in
                precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
                let z = (0..<classes).map { Double(x[row * classes + $0]) }
                let top = z.max() ?? 0
                let e = z.map { Foundation.exp($0 - top) }
                let sum = e.reduce(0, +)
                return body(e.map { $0 / sum }, z, label)
            }
        }
    }
}

/// Per-sample training dynamics collected from the trainer's batches (``PlainTrainer/train(on:subset:stopAfter:onBatch:onEpoch:)``'s
/// `onBatch`): forgetting events and the area under the margin.
public struct TrainingDynamics: Sendable {
    /// Times each sample was presented.
    public private(set) var presentations: [Int]
    /// Correct → incorrect transitions between consecutive presentations.
    public private(set) var forgettingEvents: [Int]
    /// Whether the sample was ever classified correctly when presented.
    public private(set) var everCorrect: [Bool]
    /// Sum over presentations of the logit margin z_y − max_{k≠y} z_k.
    public private(set) var marginSums: [Double]
    private var lastCorrect: [Bool?]

    /// Tracks `count` samples (the split's size; subsets index into it).
    public init(count: Int) {
        presentations = [Int](repeating: 0, count: count)
        forgettingEvents = [Int](repeating: 0, count: count)
        everCorrect = [Bool](repeating: false, count: count)
        marginSums = [Double](repeating: 0, count: count)
        lastCorrect = [Bool?](repeating: nil, count: count)
    }

    /// Records one batch: each sample's correctness and logit margin at this presentation.
    public mutating func record(_ batch: BatchPresentation) {
        record(indices: batch.indices, logits: batch.logits, labels: batch.labels)
    }

    /// Records the logits `[n, C]` of the samples at `indices` with their labels.
    public mutating func record(indices: [Int], logits: Tensor, labels: [Int]) {
        let correct = LogitScores.correct(logits: logits, labels: labels)
        let margins = LogitScores.logitMargin(logits: logits, labels: labels)
        for (row, index) in indices.enumerated() {
            if lastCorrect[index] == true, !correct[row] { forgettingEvents[index] += 1 }
            lastCorrect[index] = correct[row]
            if correct[row] { everCorrect[index] = true }
            presentations[index] += 1
            marginSums[index] += margins[row]
        }
    }

    /// The stored `forgetting` score: the event count, or one more than the most presentations of any sample
    /// for samples never classified correctly (they rank hardest).
    public func forgettingScores() -> [Double] {
        let never = Double((presentations.max() ?? 0) + 1)
        return forgettingEvents.indices.map { everCorrect[$0] ? Double(forgettingEvents[$0]) : never }
    }

    /// The stored `aum` score: minus the mean logit margin over presentations (0 for samples never presented).
    public func aumScores() -> [Double] {
        marginSums.indices.map { presentations[$0] > 0 ? -marginSums[$0] / Double(presentations[$0]) : 0 }
    }
}

/// The class-balanced random score (``PruningScore/random``).
public enum RandomScore {
    /// Within each class a seeded random permutation; sample i of class c at rank r scores (r + ½) / n_c.
    public static func classBalanced(labels: [Int], seed: UInt64) -> [Double] {
        var byClass: [Int: [Int]] = [:]
        for (index, label) in labels.enumerated() { byClass[label, default: []].append(index) }
        var rng = RandomGenerator(seed: seed)
        var scores = [Double](repeating: 0, count: labels.count)
        for label in byClass.keys.sorted() {
            let members = byClass[label] ?? []
            let order = rng.permutation(members.count)
            for (rank, position) in order.enumerated() {
                scores[members[position]] = (Double(rank) + 0.5) / Double(members.count)
            }
        }
        return scores
    }
}

/// The scores that come from one training run: forgetting events and AUM from its batches, margin and least
/// confidence of the model it ends with.
public enum TrainingRunScores {
    /// Trains `trainer`'s model on `split` (or `subset`), then returns the four scores by name, each for every
    /// sample of the split (samples outside `subset` are never presented: hardest by forgetting, 0 AUM).
    public static func compute(
        _ trainer: PlainTrainer, on split: ImageSplit, subset: [Int]? = nil,
        onEpoch: ((PlainEpochReport) throws -> Void)? = nil
    ) throws -> [PruningScore: [Double]] {
        var dynamics = TrainingDynamics(count: split.count)
        try trainer.train(on: split, subset: subset, onBatch: { dynamics.record($0) }, onEpoch: onEpoch)
        let logits = Evaluation.logits(trainer.model, on: split)
        return [
            .forgetting: dynamics.forgettingScores(),
            .aum: dynamics.aumScores(),
            .margin: LogitScores.negatedMargin(logits: logits, labels: split.labels),
            .leastConfidence: LogitScores.leastConfidence(logits: logits, labels: split.labels),
        ]
    }
}
