import CSQLite
import Foundation

/// The SQLite file that holds every run's results (default `Outputs/winnow.sqlite`).
///
/// Opening applies pending migrations, turns on WAL journaling, foreign keys and a busy timeout.
/// All writes go through prepared statements with bound parameters; multi-row writes are one transaction.
/// A `ResultStore` is used from one thread at a time; open another for another thread or process.
public final class ResultStore {
    public static let defaultPath = "Outputs/winnow.sqlite"

    /// The most bins ``weightHistogram(run:bins:step:)`` draws (the command line's `--bins` bound).
    public static let maximumHistogramBins = 10_000

    /// The folder holding `path`, as written (`.` for a bare file name, `/` for a file in the root).
    public static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Throws ``StoreError/missingFolder(path:folder:)`` unless the folder that holds (or would hold) the
    /// database at `path` exists, and ``StoreError/unreadable(path:reason:)`` when it is a file. The command
    /// line calls this before opening or creating a database, so a mistyped `--db` folder is reported rather
    /// than created; ``OpenMode/create`` itself still creates missing folders for programs that want that.
    public static func requireFolder(of path: String) throws {
        let folder = folder(of: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw StoreError.missingFolder(path: path, folder: folder)
        }
        guard isDirectory.boolValue else { throw StoreError.unreadable(path: path, reason: "\(folder) is a file, not a folder") }
    }

    /// The files that make up the database on disk: the file itself and SQLite's `-wal`, `-shm` and `-journal`
    /// companions (exports refuse to write over any of them).
    public static func databaseFiles(of path: String) -> [String] {
        [path, path + "-wal", path + "-shm", path + "-journal"]
    }

    public enum OpenMode: Sendable {
        /// Create the file (and its parent folders) when it does not exist: for recording runs.
        case create
        /// Fail with `StoreError.notFound` when the file does not exist: for queries.
        case existing
    }

    /// The path as the user gave it (used in every error message).
    public let path: String
    let connection: Connection
    private var transactionDepth = 0

    public init(path: String = ResultStore.defaultPath, mode: OpenMode = .create, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        self.path = path
        connection = try Connection(
            path: path, mode: mode == .create ? .readWriteCreate : .readWrite,
            busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        // The first read of the file is where "not a database" shows up.
        let version = try userVersion()
        if version > Schema.latestVersion {
            throw StoreError.newerSchema(path: path, found: version, supported: Schema.latestVersion)
        }
        try connection.execute("PRAGMA foreign_keys = ON")
        try setJournalModeWAL()
        try connection.execute("PRAGMA synchronous = NORMAL")
        try migrate(from: version)
    }

    /// The schema version recorded in the file.
    public func userVersion() throws -> Int {
        let statement = try connection.prepare("PRAGMA user_version")
        defer { statement.reset() }
        return try statement.step() ? statement.int(0) : 0
    }

    private func setJournalModeWAL() throws {
        let statement = try connection.prepare("PRAGMA journal_mode = WAL")
        defer { statement.reset() }
        _ = try statement.step()
    }

    private func migrate(from version: Int) throws {
        guard version < Schema.latestVersion else { return }
        try transaction {
            // Re-read inside the write lock: another process may have migrated meanwhile.
            let current = try userVersion()
            guard current < Schema.latestVersion else { return }
            for index in current..<Schema.latestVersion {
                try connection.execute(Schema.migrations[index])
            }
            // PRAGMA takes no bound parameters; the value is an integer this code controls.
            try connection.execute("PRAGMA user_version = \(Schema.latestVersion)")
        }
    }

    // MARK: Transactions

    /// Outermost transactions committed through `transaction` on this store object (bulk writes must take one,
    /// not one per row; tests check it instead of timing them).
    public private(set) var committedTransactions = 0

    /// Runs `body` in one transaction (a savepoint when nested): all of its writes land, or none do.
    /// The outermost level takes the write lock up front (`BEGIN IMMEDIATE`) so a busy database fails
    /// before any work, not at commit.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let depth = transactionDepth
        if depth == 0 {
            try connection.execute("BEGIN IMMEDIATE")
        } else {
            try connection.execute("SAVEPOINT winnow_\(depth)")
        }
        transactionDepth += 1
        do {
            let result = try body()
            transactionDepth -= 1
            if depth == 0 {
                try connection.execute("COMMIT")
                committedTransactions += 1
            } else {
                try connection.execute("RELEASE winnow_\(depth)")
            }
            return result
        } catch {
            transactionDepth -= 1
            if depth == 0 {
                if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            } else {
                try? connection.execute("ROLLBACK TO winnow_\(depth)")
                try? connection.execute("RELEASE winnow_\(depth)")
            }
            throw error
        }
    }

    /// Runs `PRAGMA quick_check` and returns SQLite's verdict ("ok" when healthy).
    public func integrityCheck() throws -> String {
        let statement = try connection.prepare("PRAGMA quick_check")
        return try statement.all { $0.text(0) ?? "" }.joined(separator: "; ")
    }

    /// Throws `StoreError.runNotFound` unless a run with this id exists.
    public func requireRun(_ runID: Int64) throws {
        let statement = try connection.prepare("SELECT 1 FROM runs WHERE id = ?")
        defer { statement.reset() }
        statement.bind(1, runID)
        guard try statement.step() else { throw StoreError.runNotFound(path: path, runID: runID) }
    }
}

/// Timestamps are ISO 8601 UTC text (`2026-11-23T10:37:57.123Z`): sortable, readable in `sqlite3`.
enum Timestamp {
    static func now() -> String { string(Date()) }
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// Minimal JSON writing for the store's JSON columns (non-finite numbers become null, keys sorted).
package enum JSONText {
    package static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
    package static func number(_ value: Float) -> String {
        guard value.isFinite else { return "null" }
        return "\(value)"
    }
    package static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20: out += String(format: "\\u%04x", s.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
    package static func object(_ values: [String: Double]) -> String {
        "{" + values.keys.sorted().map { "\(string($0)): \(number(values[$0]!))" }.joined(separator: ", ") + "}"
    }
    package static func array(_ values: [String]) -> String {
        "[" + values.map(string).joined(separator: ", ") + "]"
    }
    package static func array(_ values: [Float]) -> String {
        "[" + values.map(number).joined(separator: ",") + "]"
    }
}
