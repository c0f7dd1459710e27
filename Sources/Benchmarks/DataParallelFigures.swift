import Foundation
import Plots

/// The drawing of a `bench ddp` run: throughput speed-up against the number of ranks, a line per method and unroll
/// (each against its own one-rank row), with the ideal linear speed-up for reference.
public enum DataParallelFigures {
    /// Samples per second over the one-rank row of the same method, unroll and model; nil without that row.
    public static func speedUp(_ row: DataParallelBenchmark.Result, among rows: [DataParallelBenchmark.Result]) -> Double? {
        guard let one = rows.first(where: { $0.ranks == 1 && sameConfiguration($0, row) }), one.samplesPerSecond > 0 else {
            return nil
        }
        return row.samplesPerSecond / one.samplesPerSecond
    }

    /// Speed-up against ranks, a line per method and unroll (in the order the rows come), and "ideal" (speed-up =
    /// ranks) over the ranks measured.
    public static func speedUpVersusRanks(_ rows: [DataParallelBenchmark.Result]) -> LineChart {
        var keys: [String] = []
        for r in rows where !keys.contains(name(r)) { keys.append(name(r)) }
        var series = keys.map { key in
            LineChart.Series(
                name: key,
                points: rows.filter { name($0) == key }.sorted { $0.ranks < $1.ranks }
                    .compactMap { r in speedUp(r, among: rows).map { (x: Double(r.ranks), y: $0) } })
        }
        let ranks = Set(rows.map(\.ranks)).sorted()
        if ranks.count > 1 { series.append(LineChart.Series(name: "ideal", points: ranks.map { (x: Double($0), y: Double($0)) })) }
        let model = rows.first.map { " (\($0.model) \($0.architecture), global batch \($0.batchSize), 1 BLAS thread per rank)" } ?? ""
        return LineChart(
            title: "Data-parallel speed-up vs ranks" + model, xLabel: "ranks", yLabel: "speed-up over one rank", series: series)
    }

    /// Writes `bench-ddp.json` (every row) and `speedup-vs-ranks.svg` into `folder` (which must exist); returns the
    /// paths written.
    public static func write(_ rows: [DataParallelBenchmark.Result], to folder: String) throws -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try BenchmarkFiles.write(
            [("bench-ddp.json", try encoder.encode(rows)), ("speedup-vs-ranks.svg", Data(speedUpVersusRanks(rows).svg().utf8))],
            to: folder)
    }

    /// A Markdown row per configuration and rank count: throughput, speed-up, the all-reduce alone, the wait split
    /// (at the slower rank, for data), the share hidden behind backward, λ's wait and the megabytes reduced per step.
    public static func table(_ rows: [DataParallelBenchmark.Result]) -> String {
        var lines = [
            "| method | model (params) | unroll | ranks | global batch | samples/s | speed-up | all-reduce alone ms | waited θ ms/step "
                + "| for the slower rank | for data | hidden | launch ms/step | waited λ ms/step | MB/step | embedding rows sent "
                + "| MFLOP/step per rank | peak RSS MiB |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows {
            lines.append(
                "| \(r.method) | \(r.architecture) (\(r.parameters)) | \(r.unroll) | \(r.ranks) | \(r.batchSize) | "
                    + "\(benchmarkFigure(r.samplesPerSecond)) | \(speedUp(r, among: rows).map(benchmarkFigure) ?? "–")× | "
                    + (r.ranks == 1
                        ? "– | – | – | – | – | – | – | – | – | "
                        : "\(benchmarkFigure(r.allReduceMilliseconds)) | \(benchmarkFigure(r.waitMillisecondsPerStep)) | "
                            + "\(r.skewWaitMillisecondsPerStep.map(benchmarkFigure) ?? "–") | "
                            + "\(r.dataWaitMillisecondsPerStep.map(benchmarkFigure) ?? "–") | "
                            + "\(benchmarkFigure(100 * r.hiddenShare))% | \(benchmarkFigure(r.launchMillisecondsPerStep)) | "
                            + "\(benchmarkFigure(r.metaWaitMillisecondsPerStep)) | \(benchmarkFigure(r.bytesPerStep / 1e6)) | "
                            + "\(r.sparseRowShare.map { benchmarkFigure(100 * $0) + "%" } ?? "–") | ")
                    + "\(benchmarkFigure(r.megaFLOPsPerStep)) | \(benchmarkFigure(r.peakResidentMiB)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Rank 0's milliseconds per base step by phase, a row per configuration and rank count.
    public static func phaseTable(_ rows: [DataParallelBenchmark.Result]) -> String {
        PhaseBreakdown.table(
            rows.map { (label: "\(name($0)), \($0.ranks) rank\($0.ranks == 1 ? "" : "s")", milliseconds: $0.phaseMillisecondsPerStep) })
    }

    private static func name(_ r: DataParallelBenchmark.Result) -> String {
        r.method == "finetune" ? r.method : "\(r.method) unroll \(r.unroll)"
    }

    private static func sameConfiguration(_ a: DataParallelBenchmark.Result, _ b: DataParallelBenchmark.Result) -> Bool {
        a.method == b.method && a.unroll == b.unroll && a.model == b.model && a.architecture == b.architecture
            && a.batchSize == b.batchSize
    }
}
