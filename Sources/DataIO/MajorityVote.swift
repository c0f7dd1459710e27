/// What the majority vote does when the top classes tie or every labeling function abstains.
public enum TiePolicy: Sendable, Equatable, Codable {
    /// Soft label uniform over the tied classes (over all classes if all abstain); argmax = lowest tied index.
    case uniformSoft
    /// Drop the sample (no label).
    case abstain
    /// Pick one tied class (any class if all abstain) with a seeded generator; deterministic per sample.
    case random(seed: UInt64)
}

/// Majority vote over weak labels (`-1` = abstain).
public struct MajorityVote: Sendable {
    /// The label produced for one sample.
    public struct Vote: Sendable, Equatable {
        /// Probability per class (sums to 1).
        public var soft: [Float]
        /// Argmax of `soft` (for ties under `uniformSoft`, the lowest tied class).
        public var label: Int
    }

    /// Number of classes.
    public let classCount: Int
    /// Tie / all-abstain policy.
    public let policy: TiePolicy

    /// A vote over `classCount` classes (must be positive) with the given tie policy.
    public init(classCount: Int, policy: TiePolicy = .uniformSoft) {
        precondition(classCount > 0, "MajorityVote needs at least one class, got \(classCount)")
        self.classCount = classCount
        self.policy = policy
    }

    /// Votes for one sample; `index` seeds the `random` policy. Nil when the policy drops the sample.
    /// Labels outside `0..<classCount` (other than `-1`) are ignored; readers reject them earlier.
    public func vote(_ weakLabels: [Int], index: Int = 0) -> Vote? {
        var counts = [Int](repeating: 0, count: classCount)
        for w in weakLabels where w >= 0 && w < classCount { counts[w] += 1 }
        let top = counts.max() ?? 0
        let tied = top == 0 ? Array(0..<classCount) : (0..<classCount).filter { counts[$0] == top }
        if tied.count == 1 { return oneHot(tied[0]) }
        switch policy {
        case .abstain:
            return nil
        case .uniformSoft:
            var soft = [Float](repeating: 0, count: classCount)
            for c in tied { soft[c] = 1 / Float(tied.count) }
            return Vote(soft: soft, label: tied[0])
        case let .random(seed):
            var state = seed ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
            let r = MajorityVote.splitMix(&state)
            return oneHot(tied[Int(r % UInt64(tied.count))])
        }
    }

    private func oneHot(_ c: Int) -> Vote {
        var soft = [Float](repeating: 0, count: classCount)
        soft[c] = 1
        return Vote(soft: soft, label: c)
    }

    static func splitMix(_ s: inout UInt64) -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Votes for every record of a split and measures the weak supervision against gold labels.
    public func apply(to split: LabeledSplit) -> MajorityVoteResult {
        var votes: [Vote?] = []
        votes.reserveCapacity(split.count)
        var lfCount = 0
        for r in split.records { lfCount = max(lfCount, r.weakLabels?.count ?? 0) }
        var lfFired = [Int](repeating: 0, count: lfCount)
        var lfGold = [Int](repeating: 0, count: lfCount)
        var lfCorrect = [Int](repeating: 0, count: lfCount)
        var covered = 0, decisive = 0, ties = 0, coveredGold = 0, decisiveGold = 0
        var decisiveCorrect = 0, expectedCorrect = 0.0
        for (i, r) in split.records.enumerated() {
            let weak = r.weakLabels ?? []
            votes.append(vote(weak, index: i))
            var counts = [Int](repeating: 0, count: classCount)
            for (j, w) in weak.enumerated() where w >= 0 && w < classCount {
                counts[w] += 1
                lfFired[j] += 1
                if let g = r.label { lfGold[j] += 1; if g == w { lfCorrect[j] += 1 } }
            }
            let top = counts.max() ?? 0
            guard top > 0 else { continue }
            covered += 1
            let tied = (0..<classCount).filter { counts[$0] == top }
            if tied.count == 1 { decisive += 1 } else { ties += 1 }
            guard let g = r.label else { continue }
            coveredGold += 1
            if tied.contains(g) { expectedCorrect += 1 / Double(tied.count) }
            if tied.count == 1 {
                decisiveGold += 1
                if tied[0] == g { decisiveCorrect += 1 }
            }
        }
        let n = Double(max(split.count, 1))
        let lfs = (0..<lfCount).map { j in
            LabelingFunctionStats(
                index: j, coverage: Double(lfFired[j]) / n,
                accuracy: lfGold[j] > 0 ? Double(lfCorrect[j]) / Double(lfGold[j]) : nil)
        }
        let report = WeakLabelReport(
            split: split.name, sampleCount: split.count, labelingFunctionCount: lfCount,
            coverage: Double(covered) / n, decisiveCoverage: Double(decisive) / n,
            tieCount: ties, allAbstainCount: split.count - covered,
            accuracy: decisiveGold > 0 ? Double(decisiveCorrect) / Double(decisiveGold) : nil,
            expectedAccuracyOnCovered: coveredGold > 0 ? expectedCorrect / Double(coveredGold) : nil,
            labelingFunctions: lfs)
        return MajorityVoteResult(votes: votes, report: report)
    }
}

/// Majority-vote labels of a split, aligned with its records, plus the quality report.
public struct MajorityVoteResult: Sendable {
    /// One vote per record; nil where the policy dropped the sample.
    public var votes: [MajorityVote.Vote?]
    /// Coverage and accuracy of the weak supervision.
    public var report: WeakLabelReport
}

/// Coverage and accuracy of one labeling function.
public struct LabelingFunctionStats: Sendable, Codable, Equatable {
    /// Position in `weak_labels`.
    public var index: Int
    /// Fraction of samples on which it does not abstain.
    public var coverage: Double
    /// Accuracy on samples where it votes and a gold label exists.
    public var accuracy: Double?
}

/// How good a split's weak supervision is.
public struct WeakLabelReport: Sendable, Codable, Equatable {
    /// Split name.
    public var split: String
    /// Samples in the split.
    public var sampleCount: Int
    /// Number of labeling functions.
    public var labelingFunctionCount: Int
    /// Fraction of samples with at least one non-abstain vote.
    public var coverage: Double
    /// Fraction of samples with a unique majority class (no tie, not all-abstain).
    public var decisiveCoverage: Double
    /// Covered samples whose top classes tie.
    public var tieCount: Int
    /// Samples on which every labeling function abstains.
    public var allAbstainCount: Int
    /// Majority-vote accuracy on samples with a unique majority and a gold label.
    public var accuracy: Double?
    /// Accuracy on all covered samples with a gold label, a tie of k classes counting 1/k if gold is among them.
    public var expectedAccuracyOnCovered: Double?
    /// Per labeling function coverage and accuracy.
    public var labelingFunctions: [LabelingFunctionStats]
}
