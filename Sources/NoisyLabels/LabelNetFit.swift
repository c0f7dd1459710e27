import Foundation
import MetaLearning
import Optimizers
import Tensors

/// Fits the label-correction net directly to the clean meta split before meta learning starts
/// (`meta.label_net_fit_epochs`): on each clean sample, from its input feature and its own weak targets, to its gold
/// label (cross-entropy on the corrected distribution, Adam, batch 32). How long to fit is chosen by k-fold
/// cross-validation on the clean split (the epoch count with the lowest held-out loss), and the held-out corrections
/// of that cross-validation are what decides whether correction is used: the fitted net has seen every clean label,
/// so its corrections of the clean split itself would overstate it.
struct LabelNetFit {
    /// The clean split: label-net inputs `[n, F]`, weak targets `[n, C]` and gold labels.
    let features: Tensor
    let weakTargets: Tensor
    let gold: [Int]
    /// At most this many epochs (the cross-validation picks 1 … `maxEpochs`).
    let maxEpochs: Int
    let learningRate: Float
    let folds: Int
    let batchSize = 32

    /// The cross-validation's choice and its held-out figures.
    struct Outcome: Equatable {
        /// Epochs the final fit ran (the lowest mean held-out loss).
        var epochs: Int
        /// Mean held-out cross-entropy after each epoch, 1 … `maxEpochs`.
        var heldOutLoss: [Double]
        /// Each clean sample's corrected label (argmax) from the fold that did not train on it, at `epochs`.
        var heldOutLabels: [Int]
    }

    /// Throws when the clean split has fewer samples than folds (user data); the rest are programming errors.
    init(features: Tensor, weakTargets: Tensor, gold: [Int], maxEpochs: Int, learningRate: Float, folds: Int = 5) throws {
        precondition(features.shape[0] == gold.count && weakTargets.shape[0] == gold.count, "LabelNetFit: one row per clean sample")
        precondition(folds >= 2 && maxEpochs >= 1, "LabelNetFit: \(folds) folds, \(maxEpochs) epochs")
        guard gold.count >= folds else { throw LabelNetFitError.tooFewCleanSamples(count: gold.count, folds: folds) }
        self.features = features; self.weakTargets = weakTargets; self.gold = gold
        self.maxEpochs = maxEpochs; self.learningRate = learningRate; self.folds = folds
    }

    /// Cross-validates the epoch count with fresh nets from `makeNet`, then fits `net` on every clean sample for the
    /// chosen count. Seeded: the same seed gives the same net.
    func fit(_ net: LabelCorrectionNet, seed: UInt64, makeNet: (inout RandomGenerator) -> LabelCorrectionNet) -> Outcome {
        var rng = RandomGenerator(seed: seed)
        let n = gold.count
        let order = rng.permutation(n)
        var lossSums = [Double](repeating: 0, count: maxEpochs)
        var predictions = [[Int]](repeating: [], count: maxEpochs)
        var heldOutRows: [Int] = []
        for fold in 0..<folds {
            let heldOut = order.enumerated().filter { $0.offset % folds == fold }.map(\.element)
            let heldOutSet = Set(heldOut)
            let training = order.filter { !heldOutSet.contains($0) }
            let candidate = makeNet(&rng)
            train(candidate, rows: training, epochs: maxEpochs, rng: &rng) { epoch in
                let (loss, labels) = evaluate(candidate, rows: heldOut)
                lossSums[epoch] += loss
                predictions[epoch] += labels
            }
            heldOutRows += heldOut
        }
        let meanLoss = lossSums.map { $0 / Double(n) }
        let best = meanLoss.indices.min { meanLoss[$0] < meanLoss[$1] } ?? 0
        var heldOutLabels = [Int](repeating: 0, count: n)
        for (row, label) in zip(heldOutRows, predictions[best]) { heldOutLabels[row] = label }
        train(net, rows: Array(0..<n), epochs: best + 1, rng: &rng) { _ in }
        return Outcome(epochs: best + 1, heldOutLoss: meanLoss, heldOutLabels: heldOutLabels)
    }

    /// Adam on the mean cross-entropy of the corrected distribution against the gold labels; `afterEpoch` runs
    /// after each epoch with its index.
    private func train(
        _ net: LabelCorrectionNet, rows: [Int], epochs: Int, rng: inout RandomGenerator, afterEpoch: (Int) -> Void
    ) {
        let parameters = net.namedParameters()
        let optimizer = Adam(learningRate: learningRate)
        for epoch in 0..<epochs {
            let order = rng.permutation(rows.count).map { rows[$0] }
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let batch = Array(order[start..<min(start + batchSize, order.count)])
                let loss = crossEntropy(correct(net, rows: batch), rows: batch).mean()
                optimizer.step(parameters, gradients: Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor)))
            }
            afterEpoch(epoch)
        }
    }

    /// Summed held-out cross-entropy and the corrected labels (argmax) of `rows`.
    private func evaluate(_ net: LabelCorrectionNet, rows: [Int]) -> (loss: Double, labels: [Int]) {
        withoutGrad {
            let corrected = correct(net, rows: rows)
            return (Double(crossEntropy(corrected, rows: rows).sum().item), corrected.argmaxLastAxis())
        }
    }

    /// The net's corrected distributions `[rows.count, C]` for clean `rows`.
    private func correct(_ net: LabelCorrectionNet, rows: [Int]) -> Tensor {
        net(features: features.indexSelect(rows), weakLabels: weakTargets.indexSelect(rows))
    }

    /// Per-row cross-entropy of corrected distributions against the gold labels of `rows` (differentiable).
    private func crossEntropy(_ corrected: Tensor, rows: [Int]) -> Tensor {
        let classes = corrected.shape[1]
        var oneHot = [Float](repeating: 0, count: rows.count * classes)
        for (i, row) in rows.enumerated() { oneHot[i * classes + gold[row]] = 1 }
        let targets = Tensor(shape: [rows.count, classes], storage: oneHot)
        return -(targets * (corrected + 1e-7).log()).sum(axes: [1])
    }
}

/// A clean split too small to cross-validate the label net's fit on.
enum LabelNetFitError: Error, LocalizedError, Equatable {
    case tooFewCleanSamples(count: Int, folds: Int)

    var errorDescription: String? {
        switch self {
        case let .tooFewCleanSamples(count, folds):
            "meta.label_net_fit_epochs: the clean split (dataset.meta_split) has \(count) samples, fewer than the \(folds) "
                + "folds of the fit's cross-validation; use a larger clean split or set meta.label_net_fit_epochs to 0"
        }
    }
}
