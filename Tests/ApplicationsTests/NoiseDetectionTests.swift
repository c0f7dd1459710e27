import Testing
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// ROC-AUC and the weight / correction summaries against hand-computed answers.
@Suite struct NoiseDetectionTests {
    @Test func rocAUCKnownAnswers() {
        #expect(NoiseDetection.rocAUC(scores: [0.9, 0.8, 0.2, 0.1], positives: [true, true, false, false]) == 1)
        #expect(NoiseDetection.rocAUC(scores: [0.1, 0.2, 0.8, 0.9], positives: [true, true, false, false]) == 0)
        #expect(NoiseDetection.rocAUC(scores: [0.5, 0.5, 0.5], positives: [true, false, false]) == 0.5)
        // Positives 0.8 and 0.4, negatives 0.6, 0.4 and 0.2: pairs won 1 + 1 + 1 + 0 + 0.5 + 1 = 4.5 of 6.
        #expect(NoiseDetection.rocAUC(scores: [0.8, 0.4, 0.6, 0.4, 0.2], positives: [true, true, false, false, false]) == 0.75)
        #expect(NoiseDetection.rocAUC(scores: [1, 2], positives: [true, true]) == nil)
    }

    @Test func separationSkipsUndefinedSamplesAndScoresLowWeightsAsWrong() {
        // Samples: right (w 0.9), wrong (w 0.1), tie (skipped), wrong (w 0.5), right (not seen: NaN, skipped), right (w 0.4).
        let weights: [Float] = [0.9, 0.1, 0.3, 0.5, .nan, 0.4]
        let weak: [Int?] = [1, 0, nil, 1, 0, 0]
        let gold: [Int?] = [1, 1, 0, 0, 0, 0]
        let s = NoiseDetection.separation(weights: weights, weak: weak, gold: gold)
        #expect(abs(s.meanWeightWrong - 0.3) < 1e-6)
        #expect(abs(s.meanWeightRight - 0.65) < 1e-6)
        // Wrong {0.1, 0.5} vs right {0.9, 0.4}: lower weight wins 0.1<0.9, 0.1<0.4, 0.5<0.9 → 3 of 4.
        #expect(s.auc == 0.75)
    }

    @Test func correctionCountsFixedAndBroken() {
        let weak: [Int?] = [0, 0, 1, 1, nil]
        let gold: [Int?] = [0, 1, 1, 0, 1]
        let corrected = [1, 1, 1, 1, 1]
        let c = NoiseDetection.correction(corrected: corrected, weak: weak, gold: gold)
        #expect(c.wrongCount == 2 && c.fixed == 1)
        #expect(c.rightCount == 2 && c.broken == 1)
        #expect(c.correctedAccuracy == 0.5)
    }
}
