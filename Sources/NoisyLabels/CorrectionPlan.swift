import Foundation
import Tensors

/// Where the label net's corrections replace the weak targets in training, decided before training from the held-out
/// corrections of a label net fitted to the clean split (`LabelNetFit`). The clean samples fall into two groups:
/// - **voted**: a decisive majority vote. Correction counts here when its held-out corrections fix more wrong weak
///   labels than they break right ones.
/// - **unvoted**: a tie or every labeling function abstaining; the weak target is a uniform share over the tied (or
///   all) classes. Correction counts here when its held-out corrections are right more often than the weak target is:
///   the gold class's share of the target, summed over the group.
///
/// Each training sample then takes the decision of its group; the clean samples that train with their gold labels are
/// never corrected.
struct CorrectionPlan: Equatable {
    /// The held-out corrections against the clean split's weak and gold labels (`NoiseDetection.correction`):
    /// decisive votes fixed and broken, tied and unvoted samples given their gold label.
    let check: NoiseDetection.CorrectionOutcome
    /// The weak targets' expected right count on the tied and unvoted samples: the gold class's share of each target.
    let unvotedWeakRight: Double

    /// Held-out check of the voted group: wrong weak labels fixed, right ones broken, and the group's size.
    var votedFixed: Int { check.fixed }
    var votedBroken: Int { check.broken }
    var votedCount: Int { check.wrongCount + check.rightCount }
    /// Held-out check of the unvoted group: corrections that are right, and the group's size.
    var unvotedRight: Int { check.tiesResolved }
    var unvotedCount: Int { check.tieCount }

    /// Correction replaces the weak target of samples with a decisive vote.
    var correctsVoted: Bool { votedFixed > votedBroken }
    /// Correction replaces the weak target of tied and unvoted samples.
    var correctsUnvoted: Bool { Double(unvotedRight) > unvotedWeakRight }

    /// - Parameters:
    ///   - heldOut: each clean sample's corrected label from the cross-validation fold that did not train on it.
    ///   - weakTargets: the clean samples' weak targets, row-major `[count, classes]`.
    ///   - weakLabels: their decisive majority-vote labels (nil: tie or no vote).
    ///   - gold: their gold labels.
    init(heldOut: [Int], weakTargets: [Float], weakLabels: [Int?], gold: [Int]) {
        precondition(
            heldOut.count == gold.count && weakLabels.count == gold.count && weakTargets.count % max(1, gold.count) == 0,
            "CorrectionPlan: one row per clean sample")
        check = NoiseDetection.correction(corrected: heldOut, weak: weakLabels, gold: gold)
        let classes = gold.isEmpty ? 0 : weakTargets.count / gold.count
        unvotedWeakRight = gold.indices.filter { weakLabels[$0] == nil }.reduce(0) { $0 + Double(weakTargets[$1 * classes + gold[$1]]) }
    }

    /// Per training row, whether its corrected target replaces its weak one: by the row's group for the weakly
    /// labeled rows `0..<weakCount` (`weakLabels` nil: unvoted), never for the clean rows after them.
    func mask(weakLabels: [Int?], weakCount: Int) -> [Bool] {
        weakLabels.indices.map { i in i < weakCount && (weakLabels[i] == nil ? correctsUnvoted : correctsVoted) }
    }

    /// Row `i` of `corrected` where `keep[i]`, of `weak` elsewhere (`[rows, classes]` both); differentiable in
    /// `corrected`, whose gradient reaches only the kept rows. Returns `corrected` itself when every row is kept.
    static func blend(corrected: Tensor, weak: Tensor, keep: [Bool]) -> Tensor {
        precondition(keep.count == corrected.shape[0] && weak.shape == corrected.shape, "CorrectionPlan.blend: one flag per row")
        if !keep.contains(false) { return corrected }
        let m = Tensor(shape: [keep.count, 1], storage: keep.map { $0 ? 1 : 0 })
        return corrected * m + weak * (1 - m)
    }

    /// What the run log and the run's notes say about the decision.
    var description: String {
        let unvotedShare = unvotedCount == 0 ? 0 : Double(unvotedRight) / Double(unvotedCount) * 100
        let weakShare = unvotedCount == 0 ? 0 : unvotedWeakRight / Double(unvotedCount) * 100
        return "label correction is \(correctsVoted ? "on" : "off") for samples with a decisive weak vote (held out in the "
            + "label net's cross-validation it fixes \(votedFixed) and breaks \(votedBroken) of the clean split's \(votedCount)) "
            + "and \(correctsUnvoted ? "on" : "off") for tied and unvoted samples (held out, right on "
            + String(format: "%.1f%% of %d, the weak targets %.1f%%)", unvotedShare, unvotedCount, weakShare)
    }
}
