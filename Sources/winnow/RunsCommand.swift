import ArgumentParser
import ResultStore

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recorded runs, newest first.")

    @Option(help: "Show at most this many runs (1…10000000).") var limit: Int?
    @Flag(
        help: ArgumentHelp(
            "Add a checkpoints column: the space each run keeps in checkpoint files next to the database "
                + "(and in the database), with files no row records counted as orphans."))
    var checkpoints = false
    @Option(help: "table, csv or json.") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        try OptionBounds.check("--limit", limit, in: OptionBounds.rows)
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        let db = try store.openForQueries()
        let runs = try db.runs(limit: limit)
        var usage: [Int64: CheckpointUsage]?
        if checkpoints {
            usage = [:]
            for run in runs { usage?[run.id] = try db.checkpointUsage(run: run.id) }
        }
        let table = ResultTable.runs(runs, checkpoints: usage)
        printOut(table.render(try store.format(format, json: .json, fallback: .table)))
    }
}
