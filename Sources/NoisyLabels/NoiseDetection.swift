import Recipes
import Runtime
/// How well per-sample decisions find the training samples whose weak label is wrong. Uses the train
/// split's gold labels, which training never reads.
public enum NoiseDetection {
    /// Area under the ROC curve of `scores` for telling `positives` from the rest (Mann–Whitney U with
    /// average ranks for ties): 1 = every positive scores above every negative, 0.5 = chance.
    /// Nil when either group is empty.
    public static func rocAUC(scores: [Double], positives: [Bool]) -> Double? {
        precondition(scores.count == positives.count, "rocAUC: \(scores.count) scores for \(positives.count) flags")
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let average = Double(start + end) / 2 + 1
            for k in start...end { ranks[order[k]] = average }
            start = end + 1
        }
        let positiveCount = positives.filter { $0 }.count, negativeCount = positives.count - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return nil }
        let rankSum = zip(ranks, positives).filter(\.1).map(\.0).reduce(0, +)
        let u = rankSum - Double(positiveCount) * Double(positiveCount + 1) / 2
        return u / (Double(positiveCount) * Double(negativeCount))
    }

    /// Weight statistics over the samples with a decisive weak label and a gold label.
    public struct WeightSeparation: Sendable, Equatable {
        public var meanWeightWrong: Double
        public var meanWeightRight: Double
        /// ROC-AUC of (− weight) for detecting a wrong weak label.
        public var auc: Double?
    }

    /// - Parameters: weights per sample (NaN: not seen, left out); `weak`/`gold` labels per sample, nil where
    ///   undefined (ties, all-abstain, no gold): those samples are left out too.
    public static func separation(weights: [Float], weak: [Int?], gold: [Int?]) -> WeightSeparation {
        var scores: [Double] = [], wrong: [Bool] = []
        for i in weights.indices {
            guard let w = weak[i], let g = gold[i], !weights[i].isNaN else { continue }
            scores.append(-Double(weights[i]))
            wrong.append(w != g)
        }
        func mean(_ flag: Bool) -> Double {
            let values = zip(scores, wrong).filter { $0.1 == flag }.map { -$0.0 }
            return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        }
        return WeightSeparation(
            meanWeightWrong: mean(true), meanWeightRight: mean(false),
            auc: rocAUC(scores: scores, positives: wrong))
    }

    /// Label-correction outcome over samples with a decisive weak label and a gold label.
    public struct CorrectionOutcome: Sendable, Equatable {
        /// Wrong weak labels whose correction equals gold, and how many wrong ones there were.
        public var fixed: Int, wrongCount: Int
        /// Right weak labels whose correction differs from gold, and how many right ones there were.
        public var broken: Int, rightCount: Int
        /// Fraction of all compared samples whose corrected label equals gold.
        public var correctedAccuracy: Double
        /// Samples with a gold label but no decisive weak label (ties, all-abstain), and how many of them the
        /// correction gives their gold label.
        public var tieCount = 0, tiesResolved = 0
    }

    public static func correction(corrected: [Int], weak: [Int?], gold: [Int?]) -> CorrectionOutcome {
        var outcome = CorrectionOutcome(fixed: 0, wrongCount: 0, broken: 0, rightCount: 0, correctedAccuracy: 0)
        var agree = 0
        for i in corrected.indices {
            guard let g = gold[i] else { continue }
            guard let w = weak[i] else {
                outcome.tieCount += 1
                if corrected[i] == g { outcome.tiesResolved += 1 }
                continue
            }
            if corrected[i] == g { agree += 1 }
            if w == g {
                outcome.rightCount += 1
                if corrected[i] != g { outcome.broken += 1 }
            } else {
                outcome.wrongCount += 1
                if corrected[i] == g { outcome.fixed += 1 }
            }
        }
        let total = outcome.rightCount + outcome.wrongCount
        outcome.correctedAccuracy = total == 0 ? .nan : Double(agree) / Double(total)
        return outcome
    }
}
