import Tensors

/// Classification losses. The unreduced forms return one loss per sample (shape `[N]`), which the
/// reweighting applications need.
public enum Loss {
    /// Per-sample cross-entropy of logits `[N, C]` against integer labels.
    public static func crossEntropy(_ logits: Tensor, labels: [Int]) -> Tensor {
        -logits.logSoftmax().pick(labels)
    }

    /// Per-sample cross-entropy of logits `[N, C]` against target distributions `[N, C]` (soft labels).
    public static func crossEntropy(_ logits: Tensor, targets: Tensor) -> Tensor {
        precondition(logits.shape == targets.shape, "soft cross-entropy: logits \(logits.shape) vs targets \(targets.shape)")
        return -(logits.logSoftmax() * targets).sum(axes: [-1])
    }

    /// Mean cross-entropy against integer labels.
    public static func meanCrossEntropy(_ logits: Tensor, labels: [Int]) -> Tensor {
        crossEntropy(logits, labels: labels).mean()
    }

    /// Per-sample squared error summed over the last axis.
    public static func squaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        let d = prediction - target
        return (d * d).sum(axes: [-1])
    }

    /// Fraction of rows whose argmax equals the label.
    public static func accuracy(_ logits: Tensor, labels: [Int]) -> Double {
        accuracy(predictions: logits.argmaxLastAxis(), labels: labels)
    }

    /// Fraction of predicted classes equal to the label (0 for no labels).
    public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }
}
