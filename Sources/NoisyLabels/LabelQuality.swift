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
    /// The running mean as recorded (Float), so a resumed run continues from exactly the values it reads back.
    private var mean: [Float]?
    private var epochsSeen = 0

    /// Adds epoch `epoch`'s per-sample probabilities of the training targets (rank 0 only) and records the
    /// running mean; returns it. The mean is updated from the recorded mean of the epoch before, never from a sum
    /// kept only in memory, so an interrupted and resumed run records the same figures to the last bit.
    mutating func add(agreement: [Float], epoch: Int, context: RunContext) throws -> [Float] {
        if mean == nil || epochsSeen != epoch - 1 { try restore(count: agreement.count, before: epoch, context: context) }
        let previous = mean ?? [Float](repeating: 0, count: agreement.count)
        let updated = agreement.indices.map { i in
            Float((Double(previous[i]) * Double(epoch - 1) + Double(agreement[i])) / Double(epoch))
        }
        mean = updated
        epochsSeen = epoch
        try context.recorder.recordScores(updated, name: Self.scoreName, step: epoch)
        return updated
    }

    /// The recorded mean of epoch `before − 1` from the store (zeros before the first epoch).
    private mutating func restore(count: Int, before epoch: Int, context: RunContext) throws {
        var restored = [Float](repeating: 0, count: count)
        if epoch > 1 {
            let previous = try context.recorder.store.scores(run: context.runID, name: Self.scoreName, step: epoch - 1)
            guard previous.count == count else {
                throw StoreError.invalidArgument(
                    "run \(context.runID) has \(previous.count) label-quality scores at epoch \(epoch - 1), expected \(count)")
            }
            for s in previous { restored[s.sampleID] = Float(s.score) }
        }
        mean = restored
        epochsSeen = epoch - 1
    }
}
