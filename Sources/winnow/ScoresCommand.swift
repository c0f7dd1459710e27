import ArgumentParser
import ResultStore

struct ScoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scores",
        abstract: "Show a run's pruning scores (el2n, grand, forgetting, ...; higher = more worth keeping).",
        discussion: """
            Without --name and a selection, lists the run's score names with their steps and ranges. With --name \
            (or when the run has one score), shows the 20 highest values at the name's latest step unless --top, \
            --bottom or --histogram says otherwise. docs/SCHEMA.md states how each built-in score is stored.
            """)

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Option(help: "The score name (see the list without --name).") var name: String?
    @Option(help: "The N highest scores (1…10000000).") var top: Int?
    @Option(help: "The N lowest scores (1…10000000).") var bottom: Int?
    @Flag(help: "A histogram of the scores.") var histogram = false
    @Option(help: "Histogram bins (1…10000).") var bins = 20
    @Option(help: "The step to read (default: the name's latest; a step it was not recorded at is an error naming its last).")
    var step: Int?
    @Option(help: "table, csv or json.") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        let chosen = [top != nil, bottom != nil, histogram].filter { $0 }.count
        if chosen > 1 { throw ValidationError("choose one of --top, --bottom, --histogram") }
        try OptionBounds.checkRun(runID)
        try OptionBounds.check("--top", top, in: OptionBounds.rows)
        try OptionBounds.check("--bottom", bottom, in: OptionBounds.rows)
        try OptionBounds.check("--bins", bins, in: OptionBounds.bins)
        if let step, step < 0 { throw ValidationError("--step must be 0 or more, got \(step)") }
        if let name, name.isEmpty { throw ValidationError("--name needs a score name") }
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        let format = try store.format(format, json: .json, fallback: .table)
        let selected = top != nil || bottom != nil || histogram || step != nil
        if name == nil, !selected, try db.scoreNames(run: runID).count != 1 {
            let summaries = try db.scoreSummaries(run: runID)
            if summaries.isEmpty { throw StoreError.noResults(path: db.path, runID: runID, what: "pruning scores") }
            printOut(ResultTable.scoreSummaries(summaries).render(format))
            return
        }
        let name = try db.resolveScoreName(run: runID, name)
        let table: ResultTable
        if histogram {
            table = .histogram(try db.scoreHistogram(run: runID, name: name, bins: bins, step: step), bars: format == .table)
        } else if let bottom {
            table = .scores(try db.scores(run: runID, name: name, step: step, limit: bottom, ascending: true))
        } else {
            table = .scores(try db.scores(run: runID, name: name, step: step, limit: top ?? 20))
        }
        printOut(table.render(format))
    }
}
