import Foundation
import MetaLearning
import Plots
import Runtime
import ResultStore

/// One run as a self-contained HTML page (inline SVG, no script, no network): what ran, the environment it recorded
/// when it started (version, code revision, BLAS and its threads, ranks, host, CPU, OS), the recipe as run, its final
/// metrics, a curve per metric it recorded by step, the weight distribution of its last weighted step (for noisy labels
/// split by whether the weak label is right, with the label-issue scores and the likeliest wrong labels), and, for
/// data pruning, relative accuracy against the fraction pruned per score.
enum RunPage {
    static func html(store: ResultStore, run runID: Int64) throws -> String {
        let info = try store.run(runID)
        var body: [String] = []
        body.append("<h1>Run \(info.id): \(escape(info.application)) — \(info.status.rawValue)</h1>")
        var facts = [
            ("started", info.startedAt), ("ended", info.endedAt ?? "—"),
            ("duration", RunOverview.duration(info).map { String(format: "%.1f s", $0) } ?? "—"),
            ("seed", "\(info.seed)"), ("recipe file", info.recipePath ?? "—"), ("database", store.path),
        ]
        if let error = info.error { facts.append(("error", error)) }
        body.append(factTable(facts))
        // What the run recorded when it started, not the machine writing this page.
        body.append("<h2>Environment</h2>" + factTable(info.environmentFacts))
        if !info.metrics.isEmpty {
            body.append("<h2>Final metrics</h2><table>")
            for name in info.metrics.keys.sorted() {
                body.append("<tr><th>\(escape(name))</th><td>\(ResultTable.Cell.double(info.metrics[name]!).plain)</td></tr>")
            }
            body.append("</table>")
        }
        if let pruning = pruningChart(info.metrics) { body.append("<h2>Pruning</h2>" + pruning.svg()) }
        let curves = try metricCharts(store: store, run: runID)
        if !curves.isEmpty {
            body.append("<h2>Metrics by step</h2><div class=\"grid\">" + curves.map { $0.svg() }.joined() + "</div>")
        }
        if let phases = try phaseTable(store: store, run: runID) { body.append("<h2>Time by phase (seconds per epoch)</h2>" + phases) }
        let labels = try labelSections(store: store, run: runID)
        if !labels.splitWeights, let histogram = try weightHistogram(store: store, run: runID) {
            body.append("<h2>Weights</h2>" + histogram.svg())
        }
        body += labels.sections
        if !info.notes.isEmpty {
            body.append("<h2>Notes</h2><pre>" + escape(info.notes.joined(separator: "\n")) + "</pre>")
        }
        body.append("<h2>Recipe as run</h2><pre>" + escape(info.recipe) + "</pre>")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>winnow run \(info.id)</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}
            th,td{text-align:left;padding:2px 12px 2px 0;font-size:14px}pre{background:#f6f6f6;padding:8px;font-size:12px}
            .grid{display:flex;flex-wrap:wrap;gap:8px}.grid svg{width:460px;height:auto}</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    /// One chart per metric recorded at two or more steps (at most 24, by name).
    static func metricCharts(store: ResultStore, run runID: Int64) throws -> [LineChart] {
        let points = try store.metrics(run: runID)
        // Seconds per training phase are a table of their own (`phaseTable`), not curves.
        let byName = Dictionary(grouping: points.filter { !EpochBookkeeping.contains($0.name) }, by: \.name)
        return byName.keys.sorted().compactMap { name -> LineChart? in
            let values = (byName[name] ?? []).compactMap { p in p.value.map { (x: Double(p.step), y: $0) } }
            guard values.count >= 2 else { return nil }
            return LineChart(title: name, xLabel: "step", yLabel: name, series: [LineChart.Series(name: name, points: values)])
        }.prefix(24).map { $0 }
    }

    /// Seconds per training phase and the steps taken, one row per epoch (`phase_seconds.*`, `epoch_*_steps`), or nil
    /// for a run that recorded none.
    static func phaseTable(store: ResultStore, run runID: Int64) throws -> String? {
        let points = try store.metrics(run: runID)
        let phases = StepPhase.allCases.filter { phase in points.contains { $0.name == phase.metricName } }
        guard !phases.isEmpty else { return nil }
        let columns = [EpochBookkeeping.baseSteps, EpochBookkeeping.metaSteps] + phases.map(\.metricName)
        var value: [Int: [String: Double]] = [:]
        for point in points where columns.contains(point.name) { value[point.step, default: [:]][point.name] = point.value }
        let header = ["epoch", "base steps", "meta steps"] + phases.map(\.rawValue)
        var rows = ["<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"]
        for step in value.keys.sorted() {
            let cells = columns.map { name in value[step]?[name].map { ResultTable.Cell.double($0).plain } ?? "—" }
            rows.append("<tr><td>\(step)</td>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>")
        }
        return rows.joined() + "</table>"
    }

    /// The weights of the last step that has them.
    static func weightHistogram(store: ResultStore, run runID: Int64) throws -> HistogramChart? {
        guard let step = try store.weightSteps(run: runID).last else { return nil }
        let weights = try store.weights(run: runID, step: step).map(\.weight)
        return HistogramChart(title: "sample weights at step \(step)", xLabel: "weight", groups: [("all samples", weights)])
    }

    /// Relative accuracy per score from `relative_accuracy.<score>.prune-<ratio>` final metrics.
    static func pruningChart(_ metrics: [String: Double]) -> LineChart? {
        var series: [String: [(x: Double, y: Double)]] = [:]
        for (name, value) in metrics where name.hasPrefix("relative_accuracy.") {
            let parts = name.dropFirst("relative_accuracy.".count).components(separatedBy: ".prune-")
            guard parts.count == 2, let ratio = Double(parts[1]) else { continue }
            series[parts[0], default: []].append((ratio, value))
        }
        guard !series.isEmpty else { return nil }
        return LineChart(
            title: "Retraining on the kept samples (mean over seeds)", xLabel: "fraction pruned",
            yLabel: "relative test accuracy (pruned / full)",
            series: series.keys.sorted().map { LineChart.Series(name: $0, points: series[$0]!.sorted { $0.x < $1.x }) })
    }

    /// A two-column table of labels and values.
    static func factTable(_ facts: [(String, String)]) -> String {
        "<table>" + facts.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
