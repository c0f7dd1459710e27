import ArgumentParser
import ResultStore

struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "labels", abstract: "Show a run's corrected labels.")

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Flag(help: "Only samples whose corrected label differs from the weak label.") var changed = false
    @Flag(help: "The likeliest wrong labels: highest label-issue score first, with text, weak, gold and suggested labels.")
    var issues = false
    @Option(help: "With --issues: how many samples (default 20).") var top: Int?
    @Flag(help: "With --issues: also list samples without a decisive weak label (ties, all abstaining).") var ties = false
    @Option(help: "table, csv or json.") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        try OptionBounds.checkRun(runID)
        _ = try store.format(format, json: .json, fallback: .table)
        try OptionBounds.check("--top", top, in: 1...1_000_000)
        if top != nil, !issues { throw ValidationError("--top goes with --issues") }
        if ties, !issues { throw ValidationError("--ties goes with --issues") }
        if issues, changed { throw ValidationError("--issues and --changed are separate listings; give one") }
    }

    func run() throws {
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        let table =
            issues
            ? try LabelIssues.table(store: db, runID: runID, top: top ?? 20, includeTies: ties)
            : ResultTable.labels(try db.labels(run: runID, changedOnly: changed))
        printOut(table.render(try store.format(format, json: .json, fallback: .table)))
    }
}
