import Foundation

/// Everything a user can cause while opening, writing or querying a result database.
/// Every case names the database path so the message can be acted on without a debugger.
public enum StoreError: Error, LocalizedError, Equatable, Sendable {
    /// The database file does not exist (queries never create one).
    case notFound(path: String)
    /// The file cannot be opened or created (permissions, a directory in the way, a missing parent).
    case unreadable(path: String, reason: String)
    /// The folder that should hold the database does not exist (the command line never creates it).
    case missingFolder(path: String, folder: String)
    /// Another process holds a lock longer than the busy timeout.
    case locked(path: String)
    /// The file is not a SQLite database, or its pages are damaged.
    case corrupt(path: String, reason: String)
    /// The schema was written by a newer Winnow than this one.
    case newerSchema(path: String, found: Int, supported: Int)
    /// No run with this id exists in the database.
    case runNotFound(path: String, runID: Int64)
    /// The run exists but holds none of the requested results.
    case noResults(path: String, runID: Int64, what: String)
    /// A caller passed an argument the store cannot act on (say, a fraction outside (0, 1]).
    case invalidArgument(String)
    /// Any other SQLite failure, with the SQLite message and the statement that failed.
    case sqlite(path: String, code: Int32, message: String, statement: String?)
    /// Writing an output file (a manifest) failed.
    case outputFailed(path: String, reason: String)
    /// `registerSamples` was given a key the run already has (or the same key twice).
    case duplicateSampleKey(path: String, runID: Int64, key: String)
    /// A sample key that the run never registered.
    case unknownSampleKey(path: String, runID: Int64, key: String)
    /// A pruning score name the run did not record; `available` lists the names it has.
    case unknownScoreName(path: String, runID: Int64, name: String, available: [String])

    public var errorDescription: String? {
        switch self {
        case .notFound(let path):
            return "no result database at \(path) (runs are recorded by `winnow run`; pass --db to choose another file)"
        case .unreadable(let path, let reason):
            return "cannot open result database \(path): \(reason)"
        case .missingFolder(let path, let folder):
            return "result database \(path): folder \(folder) does not exist (create it first, e.g. mkdir -p \(folder))"
        case .locked(let path):
            return "result database \(path) is locked by another process (timed out waiting); try again when it finishes"
        case .corrupt(let path, let reason):
            return "result database \(path) is not a valid SQLite database or is damaged: \(reason)"
        case .newerSchema(let path, let found, let supported):
            return "result database \(path) has schema version \(found), but this winnow understands up to \(supported); upgrade winnow"
        case .runNotFound(let path, let runID):
            return "no run with id \(runID) in \(path) (list runs with `winnow runs --db \(path)`)"
        case .noResults(let path, let runID, let what):
            return "run \(runID) in \(path) has no \(what)"
        case .invalidArgument(let message):
            return message
        case .sqlite(let path, let code, let message, let statement):
            var text = "SQLite error \(code) on \(path): \(message)"
            if let statement { text += " (while running: \(statement.prefix(120)))" }
            return text
        case .outputFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .duplicateSampleKey(let path, let runID, let key):
            return "run \(runID) in \(path): sample key '\(key)' is registered twice (keys must be unique within a run); "
                + "nothing from this call was recorded"
        case .unknownSampleKey(let path, let runID, let key):
            return "run \(runID) in \(path) has no sample with key '\(key)'"
        case .unknownScoreName(let path, let runID, let name, let available):
            let names = available.isEmpty ? "it recorded no pruning scores" : "its scores are " + available.joined(separator: ", ")
            return "run \(runID) in \(path) has no pruning score named '\(name)' (\(names))"
        }
    }
}
