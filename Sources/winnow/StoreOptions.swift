import ArgumentParser
import ResultStore

/// Options every command that touches the result database shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The result database.", valueName: "path"))
    var database: String = ResultStore.defaultPath

    @Flag(name: .long, help: "Print JSON on stdout (and no progress).")
    var json = false

    /// Opens the database for queries (never creates it). A `--db` in a missing folder is named as such.
    func openForQueries() throws -> ResultStore {
        try requireFolder()
        return try ResultStore(path: database, mode: .existing)
    }

    /// Throws unless the database's folder exists: no command creates folders (`winnow run` creates the file only).
    func requireFolder() throws {
        try ResultStore.requireFolder(of: database)
    }

    /// The output format: `--format` if given, JSON with `--json`, else `fallback`.
    func format<F: Equatable>(_ explicit: F?, json jsonFormat: F, fallback: F) throws -> F {
        if let explicit {
            if json, explicit != jsonFormat { throw ValidationError("--json conflicts with --format \(explicit)") }
            return explicit
        }
        return json ? jsonFormat : fallback
    }
}

extension ResultTable.Format: ExpressibleByArgument {}
extension ManifestRequest.Ranking: ExpressibleByArgument {}
extension ManifestRequest.Format: ExpressibleByArgument {}

/// Bounds of the numeric options of the query and export commands (checked before anything is read).
enum OptionBounds {
    /// `--top`, `--bottom`, `--limit`: more rows than any run records, small enough to stay harmless.
    static let rows = 1...10_000_000
    /// `--bins`.
    static let bins = 1...ResultStore.maximumHistogramBins

    /// Throws a ValidationError naming the option unless `value` is in `range`.
    static func check(_ option: String, _ value: Int?, in range: ClosedRange<Int>) throws {
        guard let value, !range.contains(value) else { return }
        throw ValidationError("\(option) must be \(range.lowerBound)…\(range.upperBound), got \(value)")
    }

    /// Throws a ValidationError unless a run id is positive (run ids start at 1).
    static func checkRun(_ id: Int64?, option: String = "--run") throws {
        if let id, id < 1 { throw ValidationError("\(option) must be a run id (1 or more; see `winnow runs`), got \(id)") }
    }
}

/// Warns on stderr when a run's results may be partial.
func warnIfIncomplete(_ store: ResultStore, run runID: Int64) throws {
    let run = try store.run(runID)
    switch run.status {
    case .completed: break
    case .running: printError("warning: run \(runID) has not finished (status running); its results may be partial")
    case .failed: printError("warning: run \(runID) failed (\(run.error ?? "no message")); its results are partial")
    }
}
