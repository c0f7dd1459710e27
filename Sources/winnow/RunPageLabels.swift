import Foundation
import Plots
import ResultStore
import Runtime

/// The noisy-label parts of a run page: weights and label-issue scores split by whether the sample's weak label is
/// right or wrong (where the dataset has gold labels for the training samples, which training never reads), and the
/// likeliest wrong labels with their text.
extension RunPage {
    /// HTML sections for a run that recorded labels (noisy-label runs), and whether they include its weights split
    /// by gold label (nil sections otherwise). When the run's dataset cannot be re-read, nothing is split and the
    /// page says why.
    static func labelSections(store: ResultStore, run runID: Int64) throws -> (sections: [String], splitWeights: Bool) {
        let weak = try store.trainingLabels(run: runID)
        guard !weak.isEmpty else { return ([], false) }
        var sections: [String] = []
        let gold: [Int: Int]
        do {
            let keys = try store.sampleKeys(run: runID)
            let records = try ManifestArchive.sampleRecords(of: store.run(runID), store: store, registry: .builtIn).records
            gold = Dictionary(uniqueKeysWithValues: keys.enumerated().compactMap { id, key in records[key]?.label.map { (id, $0) } })
        } catch {
            sections.append(
                "<p>The run's dataset could not be re-read (\(escape(error.localizedDescription))): no split by gold label.</p>")
            gold = [:]
        }
        /// Values of the samples with a decisive weak label, by whether it is right, wrong, or unknown (no gold).
        func split(_ values: [(sampleID: Int, value: Double)]) -> [(name: String, values: [Double])] {
            var right: [Double] = [], wrong: [Double] = [], unknown: [Double] = []
            for (id, value) in values {
                guard let w = weak[id] else { continue }
                switch gold[id] {
                case .some(w): right.append(value)
                case .some: wrong.append(value)
                case .none: unknown.append(value)
                }
            }
            let groups = [("weak label right", right), ("weak label wrong", wrong), ("no gold label", unknown)]
            return groups.filter { !$0.1.isEmpty }.map { (name: $0.0, values: $0.1) }
        }
        var splitWeights = false
        if !gold.isEmpty, let step = try store.weightSteps(run: runID).last {
            splitWeights = true
            let weights = try store.weights(run: runID, step: step).map { (sampleID: $0.sampleID, value: $0.weight) }
            let chart = HistogramChart(title: "sample weights at step \(step)", xLabel: "weight", groups: split(weights))
            sections.append("<h2>Weights by weak-label correctness</h2>" + chart.svg())
        }
        if try store.scoreNames(run: runID).contains(ScoreName.labelQuality) {
            let quality = try store.scores(run: runID, name: ScoreName.labelQuality)
            let issues = quality.map { (sampleID: $0.sampleID, value: 1 - $0.score) }
            let chart = HistogramChart(title: "label-issue score (1 − label_quality)", xLabel: "issue score", groups: split(issues))
            sections.append("<h2>Label issues</h2>" + chart.svg())
            if let table = try? LabelIssues.table(store: store, runID: runID, top: 20) {
                sections.append("<h3>The 20 likeliest wrong labels</h3>" + htmlTable(table))
            }
        }
        return (sections, splitWeights)
    }

    /// A result table as an HTML table.
    static func htmlTable(_ table: ResultTable) -> String {
        let header = "<tr>" + table.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        let rows = table.rows.map { "<tr>" + $0.map { "<td>\(escape($0.plain))</td>" }.joined() + "</tr>" }
        return "<table>" + header + rows.joined() + "</table>"
    }
}
