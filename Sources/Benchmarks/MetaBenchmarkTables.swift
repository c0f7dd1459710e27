/// The Markdown tables of `bench meta` rows, as the command prints them and `bench suite` writes them.
public enum MetaBenchmarkTables {
    /// A row per speed configuration: throughput, meta-step time, pass costs, memory, counted operations and the
    /// fraction of sgemm reached.
    public static func speed(_ rows: [MetaBenchmark.Result]) -> String {
        var lines = [
            "| method | model (params) | unroll | BLAS threads | base samples/s | meta step ms | fwd ms | fwd+bwd ms | peak RSS MiB | "
                + "added by training MiB | base step MFLOP | meta step MFLOP | GFLOP/s (% of sgemm) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows {
            let fraction = r.sgemmGFLOPS > 0 ? String(format: " (%.0f%%)", 100 * r.achievedGFLOPS / r.sgemmGFLOPS) : ""
            lines.append(
                "| \(r.method) | \(r.hidden.map(String.init).joined(separator: "-")) (\(r.parameters)) | \(r.unroll) | \(r.blasThreads) "
                    + "| \(benchmarkFigure(r.baseSamplesPerSecond)) | \(r.metaStepMilliseconds.map(benchmarkFigure) ?? "–") | "
                    + "\(benchmarkFigure(r.forwardMilliseconds)) | \(benchmarkFigure(r.forwardBackwardMilliseconds)) | "
                    + "\(benchmarkFigure(r.peakResidentMiB)) | \(benchmarkFigure(r.trainingMiB)) | "
                    + "\(benchmarkFigure(r.baseStepMegaFLOPs)) | \(r.metaStepMegaFLOPs.map(benchmarkFigure) ?? "–") | "
                    + "\(benchmarkFigure(r.achievedGFLOPS))\(fraction) |")
        }
        return lines.joined(separator: "\n")
    }

    /// A row per quality run: test accuracy, training time and memory, and the mean weights of clean and
    /// corrupted samples.
    public static func quality(_ rows: [MetaBenchmark.Result]) -> String {
        var lines = [
            "| method | test accuracy | training s | added by training MiB | mean weight clean | mean weight corrupted |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in rows {
            lines.append(
                "| \(r.method) | \(benchmarkFigure(100 * (r.testAccuracy ?? 0)))% | \(benchmarkFigure(r.trainingSeconds)) | "
                    + "\(benchmarkFigure(r.trainingMiB)) | \(benchmarkFigure(r.cleanWeight ?? 0)) | "
                    + "\(benchmarkFigure(r.corruptedWeight ?? 0)) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// Milliseconds per base step by phase, a row per configuration.
    public static func phases(_ rows: [MetaBenchmark.Result]) -> String {
        PhaseBreakdown.table(
            rows.map { r in
                (
                    label: "\(r.method) \(r.hidden.map(String.init).joined(separator: "-")) unroll \(r.unroll)",
                    milliseconds: r.phaseMillisecondsPerStep
                )
            })
    }
}
