import ArgumentParser
import Foundation
import ResultStore

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List recorded runs, newest first, or delete one (--delete N).",
        discussion: """
            Each run shows its application, method (the recipe's meta.method; the stage of a data-pruning run; the \
            method of a continued-pretraining run), dataset, status, duration in seconds, the application's headline \
            metric, then every final metric. \
            `winnow show --run N` prints one run whole.
            """)

    @Option(help: "Show at most this many runs (1…10000000).") var limit: Int?
    @Flag(
        help: ArgumentHelp(
            "Add a checkpoints column: the space each run keeps in checkpoint files next to the database "
                + "(and in the database), with files no row records counted as orphans."))
    var checkpoints = false
    @Option(
        help: ArgumentHelp(
            "Delete this run: its rows in every table and its checkpoint files. Refused while its process is running."))
    var delete: Int64?
    @Option(help: "table, csv or json.") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        try OptionBounds.check("--limit", limit, in: OptionBounds.rows)
        if let delete, delete < 1 { throw ValidationError("--delete must be a run id (≥ 1), got \(delete)") }
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        if let delete {
            let db = try store.openForQueries()
            let deleted = try db.deleteRun(delete)
            let rows = deleted.rows.values.reduce(0, +)
            printOut(
                "deleted run \(delete) from \(db.path): \(rows) rows, \(deleted.files.count) checkpoint file"
                    + "\(deleted.files.count == 1 ? "" : "s") (\(ResultTable.byteText(deleted.bytes)))\n")
            return
        }
        let db = try store.openForQueries()
        let runs = try db.runs(limit: limit)
        var usage: [Int64: CheckpointUsage]?
        if checkpoints {
            usage = [:]
            for run in runs { usage?[run.id] = try db.checkpointUsage(run: run.id) }
        }
        let table = RunOverview.table(runs, checkpoints: usage, registry: .builtIn)
        printOut(table.render(try store.format(format, json: .json, fallback: .table)))
    }
}
