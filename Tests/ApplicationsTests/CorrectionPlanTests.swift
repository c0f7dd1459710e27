import Foundation
import Testing
@testable import NoisyLabels
@testable import Tensors

/// Where a fitted label net's corrections replace the weak targets, decided from its held-out corrections.
@Suite struct CorrectionPlanTests {
    /// Six clean samples of 3 classes: four with a decisive vote, one tie between classes 0 and 1, one with no vote.
    static let gold = [0, 1, 2, 0, 1, 2]
    static let weakLabels: [Int?] = [0, 1, 0, 2, nil, nil]
    static let weakTargets: [Float] = [
        1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1,
        0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3,
    ]

    @Test func votedSamplesCountFixesAgainstBreaksAndUnvotedOnesTheGoldShareOfTheirTargets() {
        // Held out: sample 2 fixed (0 → 2), sample 1 broken (1 → 0), sample 3 still wrong; the tie and the
        // unvoted sample both right.
        let plan = CorrectionPlan(heldOut: [0, 0, 2, 1, 1, 2], weakTargets: Self.weakTargets, weakLabels: Self.weakLabels, gold: Self.gold)
        #expect(plan.votedCount == 4 && plan.votedFixed == 1 && plan.votedBroken == 1)
        #expect(!plan.correctsVoted, "a fix for a break is no gain")
        #expect(plan.unvotedCount == 2 && plan.unvotedRight == 2)
        #expect(abs(plan.unvotedWeakRight - (0.5 + 1.0 / 3)) < 1e-6)
        #expect(plan.correctsUnvoted)
        #expect(plan.description.contains("off for samples with a decisive weak vote"))
        #expect(plan.description.contains("on for tied and unvoted samples"))

        let better = CorrectionPlan(
            heldOut: [0, 1, 2, 0, 0, 0], weakTargets: Self.weakTargets, weakLabels: Self.weakLabels, gold: Self.gold)
        #expect(better.correctsVoted && better.votedFixed == 2 && better.votedBroken == 0)
        // Both unvoted corrections wrong: 0 right against the targets' 0.83.
        #expect(!better.correctsUnvoted)
    }

    @Test func eachTrainingRowTakesItsGroupsDecisionAndCleanRowsAreNeverCorrected() {
        let plan = CorrectionPlan(heldOut: [0, 0, 2, 1, 1, 2], weakTargets: Self.weakTargets, weakLabels: Self.weakLabels, gold: Self.gold)
        // Rows 0–3 weak (two voted, two unvoted), rows 4–5 clean samples training with their gold labels.
        let mask = plan.mask(weakLabels: [1, nil, 0, nil, 2, 0], weakCount: 4)
        #expect(mask == [false, true, false, true, false, false])
    }

    @Test func blendingKeepsTheWeakTargetsOfUncorrectedRowsAndSendsNoGradientThere() {
        let corrected = Tensor(shape: [3, 2], storage: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4], requiresGrad: true)
        let weak = Tensor(shape: [3, 2], storage: [0, 1, 1, 0, 0.5, 0.5])
        let blended = CorrectionPlan.blend(corrected: corrected, weak: weak, keep: [true, false, true])
        #expect(blended.scalars == [0.9, 0.1, 1, 0, 0.6, 0.4])
        let gradient = Autodiff.gradients(of: (blended * Tensor(shape: [3, 2], storage: [1, 2, 3, 4, 5, 6])).sum(), wrt: [corrected])[0]
        #expect(gradient.scalars == [1, 2, 0, 0, 5, 6])
        #expect(CorrectionPlan.blend(corrected: corrected, weak: weak, keep: [true, true, true]) === corrected)
    }
}
