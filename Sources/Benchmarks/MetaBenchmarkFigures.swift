import Foundation
import Plots
import Runtime

/// The drawings of a `bench meta` grid (the paper's Figure 1): throughput against the memory training adds, one
/// point per method on the largest model with the Pareto front, and that memory against the parameter count, one line per
/// method over the models. Rows of the first BLAS thread count and unroll in the grid are drawn, so every point
/// of a chart was measured under the same settings. When the quality runs are among the rows (those with a test
/// accuracy), test accuracy against their training time and against the memory they added, with Pareto fronts.
public enum MetaBenchmarkFigures {
    /// The speed rows drawn: those with the grid's first thread count and unroll (as the rows come, in grid order);
    /// quality rows (with a test accuracy) are left out.
    public static func drawnRows(_ rows: [MetaBenchmark.Result]) -> [MetaBenchmark.Result] {
        let speed = rows.filter { $0.testAccuracy == nil }
        guard let first = speed.first else { return [] }
        return speed.filter { $0.blasThreads == first.blasThreads && $0.unroll == first.unroll }
    }

    /// The quality runs among `rows`: those that measured a test accuracy.
    public static func qualityRows(_ rows: [MetaBenchmark.Result]) -> [MetaBenchmark.Result] {
        rows.filter { $0.testAccuracy != nil }
    }

    /// Test accuracy (%) against the quality run's training seconds, a point per method, with the Pareto front
    /// (less time, more accuracy).
    public static func accuracyVersusTime(_ rows: [MetaBenchmark.Result]) -> ScatterChart {
        accuracyChart(rows, against: "training time (s)", title: "Test accuracy vs training time") { $0.trainingSeconds }
    }

    /// Test accuracy (%) against the memory the quality run's training added, a point per method, with the Pareto
    /// front (less memory, more accuracy).
    public static func accuracyVersusMemory(_ rows: [MetaBenchmark.Result]) -> ScatterChart {
        accuracyChart(rows, against: "memory added by training (MiB)", title: "Test accuracy vs memory") { $0.trainingMiB }
    }

    private static func accuracyChart(
        _ rows: [MetaBenchmark.Result], against xLabel: String, title: String, x: (MetaBenchmark.Result) -> Double
    ) -> ScatterChart {
        let quality = qualityRows(rows)
        let settings = quality.first.map {
            " (MLP 784-\(modelName($0))-10, \($0.steps) base steps, unroll \($0.unroll), \($0.blasThreads) BLAS thread"
                + "\($0.blasThreads == 1 ? "" : "s"))"
        }
        return ScatterChart(
            title: title + " per method" + (settings ?? ""), xLabel: xLabel, yLabel: "test accuracy (%)",
            points: quality.map { .init(label: $0.method, x: x($0), y: 100 * ($0.testAccuracy ?? 0)) })
    }

    /// Base samples per second against MiB added by training on the grid's largest model, a point per method,
    /// with the front of the points no other beats on both (less memory, more throughput).
    public static func throughputVersusMemory(_ rows: [MetaBenchmark.Result]) -> ScatterChart {
        let drawn = drawnRows(rows)
        guard let largest = drawn.max(by: { $0.parameters < $1.parameters }) else {
            return ScatterChart(title: "Throughput vs memory per method", xLabel: "", yLabel: "", points: [])
        }
        let settings = "unroll \(largest.unroll), \(largest.blasThreads) BLAS thread\(largest.blasThreads == 1 ? "" : "s")"
        return ScatterChart(
            title: "Throughput vs memory per method (MLP 784-\(modelName(largest))-10, \(settings))",
            xLabel: "memory added by training (MiB)", yLabel: "base samples / s",
            points: drawn.filter { $0.hidden == largest.hidden }.map {
                .init(label: $0.method, x: $0.trainingMiB, y: $0.baseSamplesPerSecond)
            })
    }

    /// MiB added by training against parameters, a line per method through the models.
    public static func memoryVersusParameters(_ rows: [MetaBenchmark.Result]) -> LineChart {
        let drawn = drawnRows(rows)
        var methods: [String] = []
        for r in drawn where !methods.contains(r.method) { methods.append(r.method) }
        let series = methods.map { method in
            LineChart.Series(
                name: method,
                points: drawn.filter { $0.method == method }.sorted { $0.parameters < $1.parameters }
                    .map { (x: Double($0.parameters) / 1e6, y: $0.trainingMiB) })
        }
        return LineChart(
            title: "Memory vs model size per method", xLabel: "parameters (millions)", yLabel: "memory added by training (MiB)",
            series: series)
    }

    /// Writes `bench-meta.json` (every row), `throughput-vs-memory.svg` and `memory-vs-parameters.svg` into
    /// `folder` (which must exist), and `accuracy-vs-time.svg` and `accuracy-vs-memory.svg` when quality rows are
    /// among `rows`, each through a temporary file renamed into place; returns the paths written.
    public static func write(_ rows: [MetaBenchmark.Result], to folder: String) throws -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var files: [(String, Data)] = [
            ("bench-meta.json", try encoder.encode(rows)),
            ("throughput-vs-memory.svg", Data(throughputVersusMemory(rows).svg().utf8)),
            ("memory-vs-parameters.svg", Data(memoryVersusParameters(rows).svg().utf8)),
        ]
        if !qualityRows(rows).isEmpty {
            files.append(("accuracy-vs-time.svg", Data(accuracyVersusTime(rows).svg().utf8)))
            files.append(("accuracy-vs-memory.svg", Data(accuracyVersusMemory(rows).svg().utf8)))
        }
        return try BenchmarkFiles.write(files, to: folder)
    }

    private static func modelName(_ r: MetaBenchmark.Result) -> String { r.hidden.map(String.init).joined(separator: "-") }
}
