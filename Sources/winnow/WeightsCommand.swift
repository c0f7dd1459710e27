import ArgumentParser
import Foundation
import ResultStore
import Runtime

struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Show a run's per-sample importance weights (latest step unless --step).",
        discussion: """
            Without a selection, shows the 20 highest weights. Samples whose dataset has texts (the corpus \
            documents of continued pretraining, noisy-label texts) show their first 80 characters in a `text` \
            column, re-read from the archive the run's recipe names (a warning says when it cannot be read). \
            --tokens shows the mean weight per vocabulary token instead (continued pretraining: over the masked \
            tokens of each epoch), with how many masked tokens each mean is over.
            """)

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Option(help: "The N highest weights (1…10000000).") var top: Int?
    @Option(help: "The N lowest weights (1…10000000).") var bottom: Int?
    @Option(help: ArgumentHelp("One sample's weight at every step: its dataset id (key), or its integer sample id.", valueName: "key"))
    var sample: String?
    @Flag(help: "A histogram of the weights.") var histogram = false
    @Option(help: "Histogram bins (1…10000).") var bins = 20
    @Flag(help: "Mean weight per vocabulary token (with --top or --bottom) instead of per sample.") var tokens = false
    @Option(help: "With --tokens: only tokens masked at least N times in the step (1…10000000).") var minCount = 1
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
        if tokens, sample != nil || histogram {
            throw ValidationError("--tokens shows --top or --bottom tokens; drop --sample and --histogram")
        }
        try OptionBounds.check("--min-count", minCount, in: OptionBounds.rows)
        _ = try store.format(format, json: .json, fallback: .table)
    }

    func run() throws {
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        let format = try store.format(format, json: .json, fallback: .table)
        let table: ResultTable
        if tokens {
            table = .tokenWeights(
                try db.tokenWeights(run: runID, count: bottom ?? top ?? 20, descending: bottom == nil, step: step, minimumCount: minCount))
        } else if histogram {
            table = .histogram(try db.weightHistogram(run: runID, bins: bins, step: step), bars: format == .table)
        } else {
            let weights: [SampleWeight]
            if let sample {
                weights = try db.weights(run: runID, sample: sample)
            } else if let bottom {
                weights = try db.bottomWeights(run: runID, count: bottom, step: step)
            } else {
                weights = try db.topWeights(run: runID, count: top ?? 20, step: step)
            }
            table = .weights(weights, texts: texts(of: weights, db))
        }
        printOut(table.render(format))
    }

    /// The start of each sample's text (one line, 80 characters, as `labels --issues` shows it), re-read from the
    /// dataset its records are in. nil when none has text or the recipe names no dataset, and (with a warning)
    /// when the dataset cannot be read.
    func texts(of weights: [SampleWeight], _ db: ResultStore) -> [Int: String]? {
        guard weights.contains(where: { $0.key != nil }) else { return nil }
        let all: [String: String]
        do {
            all = try ManifestArchive.sampleTexts(of: db.run(runID), store: db, registry: .builtIn)
        } catch ManifestArchiveError.missingDatasetKey, ManifestArchiveError.missingRecipeKey {
            return nil
        } catch {
            printError("warning: texts not shown: \(ExitStatus.describe(error))")
            return nil
        }
        var texts: [Int: String] = [:]
        for weight in weights { if let key = weight.key, let text = all[key] { texts[weight.sampleID] = LabelIssues.snippet(text) } }
        return texts.isEmpty ? nil : texts
    }
}
