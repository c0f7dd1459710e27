import Foundation
import ResultStore
import Runtime

/// The per-sample label-quality score of a noisy-label run: the model's probability of each training sample's
/// training target, p = Σ_c target_c·p_c (the probability of its weak label; 1/k for a uniform tie, which
/// has no label to be wrong), averaged over the ends of all epochs so far. Its complement
/// 1 − p is the label-issue score (higher = more likely wrong): a weak label the model keeps disagreeing with
/// through training is suspect, while one it learns only by the last epochs (memorised) still carries the
/// disagreement of the earlier ones.
///
/// Recorded every epoch as the pruning score `label_quality` (step = epoch, higher = more worth keeping, so
/// `export manifest --by label_quality` keeps the likeliest right labels); a resumed run reads the running mean
/// of the last recorded epoch back from the store, so the final figures do not depend on interruptions.
struct LabelQualityTracker {
    static let scoreName = ScoreName.labelQuality
    private var sum: [Double]?
    private var epochsSeen = 0

    /// Adds epoch `epoch`'s per-sample probabilities of the training targets (rank 0 only) and records the
    /// running mean; returns it.
    mutating func add(agreement: [Float], epoch: Int, context: RunContext) throws -> [Float] {
        if sum == nil || epochsSeen != epoch - 1 { try restore(count: agreement.count, before: epoch, context: context) }
        var total = sum ?? [Double](repeating: 0, count: agreement.count)
        for i in agreement.indices { total[i] += Double(agreement[i]) }
        sum = total
        epochsSeen = epoch
        let mean = total.map { Float($0 / Double(epoch)) }
        try context.recorder.recordScores(mean, name: Self.scoreName, step: epoch)
        return mean
    }

    /// The sums up to epoch `before − 1` from the store (zero before the first epoch).
    private mutating func restore(count: Int, before epoch: Int, context: RunContext) throws {
        var total = [Double](repeating: 0, count: count)
        if epoch > 1 {
            let previous = try context.recorder.store.scores(run: context.runID, name: Self.scoreName, step: epoch - 1)
            guard previous.count == count else {
                throw StoreError.invalidArgument(
                    "run \(context.runID) has \(previous.count) label-quality scores at epoch \(epoch - 1), expected \(count)")
            }
            for s in previous { total[s.sampleID] = s.score * Double(epoch - 1) }
        }
        sum = total
        epochsSeen = epoch - 1
    }
}
