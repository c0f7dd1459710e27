import Foundation
import Plots

/// The retraining results of a run as one table (relative accuracy = pruned / full-data accuracy of the same
/// seed, mean ± sd over seeds, per score and ratio) and one plot (relative accuracy vs fraction pruned, a line
/// per score), written next to the database.
struct PruningResultTable {
    struct Cell: Equatable {
        var mean: Double
        var sd: Double
        var seeds: Int
    }

    let results: [RetrainResult]
    let ratios: [Double]

    /// Scores in the order their first result appears.
    var scores: [String] {
        var seen: [String] = []
        for r in results { if let s = r.score, !seen.contains(s) { seen.append(s) } }
        return seen
    }

    /// Full-data test accuracy by seed.
    var fullAccuracy: [UInt64: Double] {
        Dictionary(results.filter { $0.score == nil }.map { ($0.seed, $0.testAccuracy) }, uniquingKeysWith: { _, last in last })
    }

    /// Relative accuracy of `score` at `ratio` over the seeds that have both it and a full-data run.
    func relative(_ score: String, _ ratio: Double) -> Cell? {
        let full = fullAccuracy
        let values = results.filter { $0.score == score && $0.ratio == ratio }.compactMap { r in
            full[r.seed].map { r.testAccuracy / $0 }
        }
        return Self.cell(values)
    }

    /// Absolute test accuracy of `score` at `ratio` (nil score: full data).
    func absolute(_ score: String?, _ ratio: Double) -> Cell? {
        Self.cell(results.filter { $0.score == score && (score == nil || $0.ratio == ratio) }.map(\.testAccuracy))
    }

    static func cell(_ values: [Double]) -> Cell? {
        guard !values.isEmpty else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1) : 0
        return Cell(mean: mean, sd: variance.squareRoot(), seeds: values.count)
    }

    /// A markdown table: one row per score, one column per ratio, `mean ± sd` of the relative accuracy
    /// (sample sd over seeds), then the full-data accuracy.
    var markdown: String {
        let header = "| score | " + ratios.map { String(format: "%.0f%% pruned", $0 * 100) }.joined(separator: " | ") + " |"
        let rule = "|---|" + ratios.map { _ in "---|" }.joined()
        var lines = [header, rule]
        for score in scores {
            let cells = ratios.map { ratio in relative(score, ratio).map { String(format: "%.3f ± %.3f", $0.mean, $0.sd) } ?? "–" }
            lines.append("| \(score) | " + cells.joined(separator: " | ") + " |")
        }
        if let full = absolute(nil, 0) {
            lines.append("")
            lines.append(String(format: "Full data: test accuracy %.4f ± %.4f over %d seed(s).", full.mean, full.sd, full.seeds))
        }
        return lines.joined(separator: "\n")
    }

    /// The plot: relative accuracy vs fraction pruned, one line per score with ±sd bars.
    var chart: LineChart {
        let series = scores.map { score in
            let cells = ratios.sorted().compactMap { ratio in relative(score, ratio).map { (ratio, $0) } }
            return LineChart.Series(name: score, points: cells.map { (x: $0.0, y: $0.1.mean) }, errors: cells.map(\.1.sd))
        }
        return LineChart(
            title: "Retraining on the kept samples", xLabel: "fraction pruned", yLabel: "relative test accuracy (pruned / full)",
            series: series)
    }

    /// Mean relative accuracy per score and ratio, and the full-data accuracy, as run metrics.
    var summaryMetrics: [String: Double] {
        var metrics: [String: Double] = [:]
        for score in scores {
            for ratio in ratios {
                if let cell = relative(score, ratio) {
                    metrics["relative_accuracy.\(score).prune-\(String(format: "%.2f", ratio))"] = cell.mean
                }
            }
        }
        if let full = absolute(nil, 0) { metrics["full_test_accuracy"] = full.mean }
        return metrics
    }

    /// Writes `<database name>-run-<id>-pruning.md` and `.svg` next to the database (each to a temporary
    /// file renamed into place) and returns their paths.
    func write(nextTo databasePath: String, runID: Int64) throws -> (table: String, plot: String) {
        let database = URL(fileURLWithPath: databasePath)
        let stem = database.deletingPathExtension().lastPathComponent
        let folder = database.deletingLastPathComponent()
        let table = folder.appendingPathComponent("\(stem)-run-\(runID)-pruning.md")
        let plot = folder.appendingPathComponent("\(stem)-run-\(runID)-pruning.svg")
        let text = "# Run \(runID): relative test accuracy after pruning (mean ± sd over seeds)\n\n" + markdown + "\n"
        try Data(text.utf8).write(to: table, options: .atomic)
        try Data(chart.svg().utf8).write(to: plot, options: .atomic)
        return (table.path, plot.path)
    }
}
