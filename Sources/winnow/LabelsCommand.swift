import ArgumentParser
import ResultStore

struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "labels", abstract: "Show a run's corrected labels.")

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Flag(help: "Only samples whose corrected label differs from the weak label.") var changed = false
    @Option(help: "table, csv or json.") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        try OptionBounds.checkRun(runID)
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        let table = ResultTable.labels(try db.labels(run: runID, changedOnly: changed))
        printOut(table.render(try store.format(format, json: .json, fallback: .table)))
    }
}
