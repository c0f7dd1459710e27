import ArgumentParser
import ResultStore

/// Options every command that touches the result database shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The result database.", valueName: "path"))
    var database: String = ResultStore.defaultPath

    @Flag(name: .long, help: "Print JSON on stdout (and no progress).")
    var json = false

    /// Opens the database for queries (never creates it).
    func openForQueries() throws -> ResultStore {
        try ResultStore(path: database, mode: .existing)
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

/// Warns on stderr when a run's results may be partial.
func warnIfIncomplete(_ store: ResultStore, run runID: Int64) throws {
    let run = try store.run(runID)
    switch run.status {
    case .completed: break
    case .running: printError("warning: run \(runID) has not finished (status running); its results may be partial")
    case .failed: printError("warning: run \(runID) failed (\(run.error ?? "no message")); its results are partial")
    }
}
