import DataIO
import Foundation
import ResultStore
import Runtime

/// `winnow labels --run N --issues`: the training samples whose weak label is most likely wrong, by the run's
/// label-issue score (1 − `label_quality`), with their text, weak label, gold label (where the dataset has one),
/// the suggested label and the score, labels by class name. Texts and gold labels come from the run's dataset,
/// re-read from the archive its recipe names. Samples without a decisive weak label (a tie, or every labeling function
/// abstaining) have no label to be wrong and are left out unless `includeTies`.
enum LabelIssues {
    /// The `top` samples with the highest label-issue score of run `runID` (with a decisive weak label unless
    /// `includeTies`).
    static func table(store: ResultStore, runID: Int64, top: Int, includeTies: Bool = false) throws -> ResultTable {
        let names = try store.scoreNames(run: runID)
        guard names.contains(ScoreName.labelQuality) else {
            throw StoreError.noResults(
                path: store.path, runID: runID, what: "label-quality scores (noisy-label runs record them every epoch)")
        }
        let suggestions = Dictionary(try store.labels(run: runID).map { ($0.sampleID, $0) }, uniquingKeysWith: { a, _ in a })
        let ranked = try store.scores(run: runID, name: ScoreName.labelQuality, limit: includeTies ? top : nil, ascending: true)
        let decisive = { (score: SampleScore) in suggestions[score.sampleID].map { $0.originalLabel != nil } ?? true }
        let worst = includeTies ? ranked : Array(ranked.lazy.filter(decisive).prefix(top))
        let run = try store.run(runID)
        let (records, classNames) = try ManifestArchive.sampleRecords(of: run, store: store, registry: .builtIn)
        func className(_ label: Int?) -> ResultTable.Cell {
            guard let label else { return .null }
            return .text(label < classNames.count ? classNames[label] : "\(label)")
        }
        return ResultTable(
            columns: ["sample_id", "sample", "issue_score", "weak_label", "gold_label", "suggested_label", "text"],
            rows: worst.map { score in
                let record = score.key.flatMap { records[$0] }
                let suggestion = suggestions[score.sampleID]
                return [
                    .int(Int64(score.sampleID)), score.key.map { .text($0) } ?? .null, .double(1 - score.score),
                    suggestion.map { $0.originalLabel.map { className($0) } ?? .text("tie") } ?? .null,
                    className(record?.label), className(suggestion?.correctedLabel),
                    record?.text.map { .text(snippet($0)) } ?? .null,
                ]
            })
    }

    /// The text on one line, cut at 80 characters.
    static func snippet(_ text: String, length: Int = 80) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count <= length ? line : String(line.prefix(length - 1)) + "…"
    }
}
