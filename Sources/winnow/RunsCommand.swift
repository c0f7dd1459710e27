import ArgumentParser
import ResultStore

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recorded runs, newest first.")

    @Option(help: "Show at most this many runs.") var limit: Int?
    @Option(help: "table, csv or json.") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        let db = try store.openForQueries()
        let table = ResultTable.runs(try db.runs(limit: limit))
        printOut(table.render(try store.format(format, json: .json, fallback: .table)))
    }
}
