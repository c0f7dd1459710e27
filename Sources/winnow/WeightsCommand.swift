import ArgumentParser
import ResultStore

struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Show a run's per-sample importance weights (latest step unless --step).",
        discussion: "Without a selection, shows the 20 highest weights.")

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Option(help: "The N highest weights (1…10000000).") var top: Int?
    @Option(help: "The N lowest weights (1…10000000).") var bottom: Int?
    @Option(help: ArgumentHelp("One sample's weight at every step: its dataset id (key), or its integer sample id.", valueName: "key"))
    var sample: String?
    @Flag(help: "A histogram of the weights.") var histogram = false
    @Option(help: "Histogram bins (1…10000).") var bins = 20
    @Option(help: "The step to read (default: the latest; a step the run did not record is an error naming its last step).")
    var step: Int?
    @Option(help: "table, csv or json.") var format: ResultTable.Format?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        let chosen = [top != nil, bottom != nil, sample != nil, histogram].filter { $0 }.count
        if chosen > 1 { throw ValidationError("choose one of --top, --bottom, --sample, --histogram") }
        try OptionBounds.checkRun(runID)
        try OptionBounds.check("--top", top, in: OptionBounds.rows)
        try OptionBounds.check("--bottom", bottom, in: OptionBounds.rows)
        try OptionBounds.check("--bins", bins, in: OptionBounds.bins)
        if let step, step < 0 { throw ValidationError("--step must be 0 or more, got \(step)") }
        if sample != nil, step != nil { throw ValidationError("--sample shows every step; drop --step") }
        if let sample, sample.isEmpty { throw ValidationError("--sample needs a sample key or id") }
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        let format = try store.format(format, json: .json, fallback: .table)
        let table: ResultTable
        if let sample {
            table = .weights(try db.weights(run: runID, sample: sample))
        } else if histogram {
            table = .histogram(try db.weightHistogram(run: runID, bins: bins, step: step), bars: format == .table)
        } else if let bottom {
            table = .weights(try db.bottomWeights(run: runID, count: bottom, step: step))
        } else {
            table = .weights(try db.topWeights(run: runID, count: top ?? 20, step: step))
        }
        printOut(table.render(format))
    }
}
