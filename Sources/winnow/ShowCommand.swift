import ArgumentParser
import Foundation
import ResultStore

/// `winnow show --run N`: one run whole — what ran, where (the environment it recorded), how long, the recipe as it ran,
/// every final metric,
/// the metrics it recorded per step, its notes and its error.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print one run: its recipe as run, its final and per-step metrics, notes and error.")

    @Option(name: .customLong("run"), help: "The run id.") var runID: Int64
    @Option(help: "table, csv or json (the per-step metrics' format; the rest is text).") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if runID < 1 { throw ValidationError("--run must be a run id (≥ 1), got \(runID)") }
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        let db = try store.openForQueries()
        let info = try db.run(runID)
        var lines = [
            "run \(info.id): \(info.application), \(info.status.rawValue)",
            "  started \(info.startedAt)" + (info.endedAt.map { ", ended \($0)" } ?? "")
                + (RunOverview.duration(info).map { String(format: " (%.1f s)", $0) } ?? ""),
            "  seed \(info.seed), code \(info.codeRevision)" + (info.recipePath.map { ", recipe file \($0)" } ?? ""),
        ]
        if let error = info.error { lines.append("  error: \(error)") }
        lines.append("environment:")
        lines += info.environmentFacts.map { "  \($0.0): \($0.1)" }
        lines.append("recipe as run:")
        lines += info.recipe.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }
        if !info.metrics.isEmpty {
            lines.append("final metrics:")
            for name in info.metrics.keys.sorted() {
                lines.append("  \(name): \(ResultTable.Cell.double(info.metrics[name]!).plain)")
            }
        }
        if !info.notes.isEmpty {
            lines.append("notes:")
            lines += info.notes.map { "  \($0)" }
        }
        printOut(lines.joined(separator: "\n") + "\n")
        let points = try db.metrics(run: runID)
        guard !points.isEmpty else { return }
        printOut("metrics by step:\n")
        let table = ResultTable(
            columns: ["name", "step", "value"],
            rows: points.map { [.text($0.name), .int(Int64($0.step)), $0.value.map(ResultTable.Cell.double) ?? .null] })
        printOut(table.render(try store.format(format, json: .json, fallback: .table)))
    }
}
