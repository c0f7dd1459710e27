import Foundation
import MetaLearning
import Optimizers
import Tensors

/// Fits the label-correction net directly to the clean meta split before meta learning starts
/// (`meta.label_net_fit_epochs`): on each clean sample, from its input feature and its own weak targets, to its gold
/// label (cross-entropy on the corrected distribution, Adam, batch 32). How long to fit is chosen by k-fold
/// cross-validation on the clean split: the folds train side by side, epoch by epoch, until the mean held-out loss has
/// not improved for `patience` epochs (or `maxEpochs` is reached), and the epoch count with the lowest one wins. The
/// held-out corrections of that cross-validation are what decides where correction is used (`CorrectionPlan`): the
/// fitted net has seen every clean label, so its corrections of the clean split itself would overstate it.
struct LabelNetFit {
    /// The clean split: label-net inputs `[n, F]`, weak targets `[n, C]` and gold labels.
    let features: Tensor
    let weakTargets: Tensor
    let gold: [Int]
    /// At most this many epochs (the cross-validation picks 1 … `maxEpochs`).
    let maxEpochs: Int
    let learningRate: Float
    let folds: Int
    /// The cross-validation stops once this many epochs have passed without a lower mean held-out loss.
    let patience: Int
    let batchSize = 32

    /// The cross-validation's choice and its held-out figures.
    struct Outcome: Equatable {
        /// Epochs the final fit ran (the lowest mean held-out loss).
        var epochs: Int
        /// Mean held-out cross-entropy after each epoch the cross-validation ran (at most `maxEpochs`).
        var heldOutLoss: [Double]
        /// Each clean sample's corrected label (argmax) from the fold that did not train on it, at `epochs`.
        var heldOutLabels: [Int]
    }

    /// Throws when the clean split has fewer samples than folds (user data); the rest are programming errors.
    init(
        features: Tensor, weakTargets: Tensor, gold: [Int], maxEpochs: Int, learningRate: Float, folds: Int = 5,
        patience: Int = 20
    ) throws {
        precondition(features.shape[0] == gold.count && weakTargets.shape[0] == gold.count, "LabelNetFit: one row per clean sample")
        precondition(
            folds >= 2 && maxEpochs >= 1 && patience >= 1, "LabelNetFit: \(folds) folds, \(maxEpochs) epochs, patience \(patience)")
        guard gold.count >= folds else { throw LabelNetFitError.tooFewCleanSamples(count: gold.count, folds: folds) }
        self.features = features; self.weakTargets = weakTargets; self.gold = gold
        self.maxEpochs = maxEpochs; self.learningRate = learningRate; self.folds = folds; self.patience = patience
    }

    /// Cross-validates the epoch count with fresh nets from `makeNet`, then fits `net` on every clean sample for the
    /// chosen count. Seeded: the same seed gives the same net. Each fold draws its batches from its own generator, so
    /// a fold's training does not depend on how long the others ran.
    func fit(_ net: LabelCorrectionNet, seed: UInt64, makeNet: (inout RandomGenerator) -> LabelCorrectionNet) -> Outcome {
        var rng = RandomGenerator(seed: seed)
        let n = gold.count
        let order = rng.permutation(n)
        var runs: [FoldRun] = (0..<folds).map { fold in
            let heldOut = order.enumerated().filter { $0.offset % folds == fold }.map(\.element)
            let heldOutSet = Set(heldOut)
            let net = makeNet(&rng)
            return FoldRun(
                net: net, optimizer: Adam(learningRate: learningRate), training: order.filter { !heldOutSet.contains($0) },
                heldOut: heldOut, rng: RandomGenerator(seed: seed &+ 0x9E37_79B9 &* UInt64(fold + 1)))
        }
        var meanLoss: [Double] = [], predictions: [[Int]] = []
        var best = 0
        for epoch in 0..<maxEpochs {
            var lossSum = 0.0, labels = [Int](repeating: 0, count: n)
            for i in runs.indices {
                trainEpoch(runs[i].net, optimizer: runs[i].optimizer, rows: runs[i].training, rng: &runs[i].rng)
                let (loss, heldOutLabels) = evaluate(runs[i].net, rows: runs[i].heldOut)
                lossSum += loss
                for (row, label) in zip(runs[i].heldOut, heldOutLabels) { labels[row] = label }
            }
            meanLoss.append(lossSum / Double(n))
            predictions.append(labels)
            if meanLoss[epoch] < meanLoss[best] { best = epoch }
            if epoch - best >= patience { break }
        }
        let optimizer = Adam(learningRate: learningRate)
        for _ in 0...best { trainEpoch(net, optimizer: optimizer, rows: Array(0..<n), rng: &rng) }
        return Outcome(epochs: best + 1, heldOutLoss: meanLoss, heldOutLabels: predictions[best])
    }

    /// One fold of the cross-validation: its net, its optimizer's state and its own batch order.
    private struct FoldRun {
        let net: LabelCorrectionNet
        let optimizer: Adam
        let training: [Int]
        let heldOut: [Int]
        var rng: RandomGenerator
    }

    /// One epoch of Adam on the mean cross-entropy of the corrected distribution against the gold labels of `rows`.
    private func trainEpoch(_ net: LabelCorrectionNet, optimizer: Adam, rows: [Int], rng: inout RandomGenerator) {
        let parameters = net.namedParameters()
        let order = rng.permutation(rows.count).map { rows[$0] }
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let batch = Array(order[start..<min(start + batchSize, order.count)])
            let loss = crossEntropy(correct(net, rows: batch), rows: batch).mean()
            optimizer.step(parameters, gradients: Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor)))
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
