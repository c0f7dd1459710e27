import Foundation
import Plots
import ResultStore
import Runtime

/// Runs side by side as one self-contained HTML page (inline SVG, no script, no network): what each run is, the
/// final metrics they all recorded with each run's difference to the first (accuracies also in points), the
/// recipe keys whose values differ, and a chart per shared per-step metric with one line per run.
enum ComparePage {
    static func html(_ comparison: RunComparison) -> String {
        let columns = comparison.columns
        let names = columns.map { "run \($0.run.id)" }
        var body = ["<h1>Runs " + columns.map { "\($0.run.id)" }.joined(separator: ", ") + " compared</h1>"]
        let facts: [(String, (RunComparison.Column) -> String)] = [
            ("application", { $0.run.application }), ("method", { $0.method ?? "—" }), ("dataset", { $0.dataset ?? "—" }),
            ("status", { $0.run.status.rawValue }), ("duration", { $0.duration.map { String(format: "%.1f s", $0) } ?? "—" }),
            ("started", { $0.run.startedAt }), ("code revision", { $0.run.codeRevision }),
            ("winnow", { $0.run.environment?.winnowVersion ?? "not recorded" }),
            ("host", { $0.run.environment.map { "\($0.host), \($0.ranks) rank\($0.ranks == 1 ? "" : "s")" } ?? "not recorded" }),
        ]
        body.append(
            "<table><tr><th></th>" + names.map { "<th>\($0)</th>" }.joined() + "</tr>"
                + facts.map { label, value in row(label, columns.map(value)) }.joined() + "</table>")
        body.append("<h2>Final metrics</h2>")
        if comparison.metrics.isEmpty {
            body.append("<p>The runs share no final metric.</p>")
        } else {
            let header =
                ["<th>metric</th>", "<th>\(names[0])</th>"] + names.dropFirst().flatMap { ["<th>\($0)</th>", "<th>Δ vs \(names[0])</th>"] }
            body.append("<table class=\"numbers\"><tr>" + header.joined() + "</tr>")
            for metric in comparison.metrics {
                var cells = ["<th>\(RunPage.escape(metric.name))</th>", "<td>\(plain(metric.values[0]))</td>"]
                for index in metric.values.indices.dropFirst() {
                    cells += ["<td>\(plain(metric.values[index]))</td>", "<td>\(difference(metric, index))</td>"]
                }
                body.append("<tr>" + cells.joined() + "</tr>")
            }
            body.append("</table>")
        }
        body.append("<h2>Recipe differences</h2>")
        if comparison.recipeDifferences.isEmpty {
            body.append("<p>The recorded recipes are the same.</p>")
        } else {
            body.append(
                "<table><tr><th>key</th>" + names.map { "<th>\($0)</th>" }.joined() + "</tr>"
                    + comparison.recipeDifferences.map { row($0.key, $0.values.map { $0 ?? "—" }) }.joined() + "</table>")
        }
        let charts = curveCharts(comparison)
        if !charts.isEmpty {
            body.append("<h2>Metrics by step</h2><div class=\"grid\">" + charts.map { $0.svg() }.joined() + "</div>")
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>winnow runs \(columns.map { "\($0.run.id)" }.joined(separator: ", "))</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}
            th,td{text-align:left;padding:2px 12px 2px 0;font-size:14px;vertical-align:top}.numbers td{text-align:right}
            .grid{display:flex;flex-wrap:wrap;gap:8px}.grid svg{width:460px;height:auto}</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    /// One chart per shared per-step metric, a line per run.
    static func curveCharts(_ comparison: RunComparison) -> [LineChart] {
        comparison.curveMetrics.map { name in
            LineChart(
                title: name, xLabel: "step", yLabel: name,
                series: zip(comparison.columns, comparison.curves).map { column, curves in
                    LineChart.Series(name: "run \(column.run.id)", points: (curves[name] ?? []).sorted { $0.x < $1.x })
                })
        }
    }

    /// The difference of run `index` to the first: absolute, and in points for an accuracy.
    static func difference(_ metric: RunComparison.MetricRow, _ index: Int) -> String {
        let delta = metric.differences[index]
        guard delta.isFinite else { return "—" }
        let absolute = (delta > 0 ? "+" : "") + plain(delta)
        guard metric.isAccuracy else { return absolute }
        return absolute + String(format: " (%+.2f points)", delta * 100)
    }

    static func plain(_ value: Double) -> String { ResultTable.Cell.double(value).plain }

    static func row(_ label: String, _ values: [String]) -> String {
        "<tr><th>\(RunPage.escape(label))</th>" + values.map { "<td>\(RunPage.escape($0))</td>" }.joined() + "</tr>"
    }
}
