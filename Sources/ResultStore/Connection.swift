import CSQLite
import Foundation

/// A thin owner of one `sqlite3*` handle. Not thread-safe: one connection per thread of work.
final class Connection {
    let path: String
    private(set) var handle: OpaquePointer?

    enum Mode { case readWriteCreate, readWrite }

    init(path: String, mode: Mode, busyTimeoutMilliseconds: Int32) throws {
        self.path = path
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists, isDirectory.boolValue {
            throw StoreError.unreadable(path: path, reason: "it is a directory")
        }
        switch mode {
        case .readWrite:
            if !exists { throw StoreError.notFound(path: path) }
        case .readWriteCreate:
            // Not NSString.deletingLastPathComponent: it traps on a one-character path such as `q`.
            let parent = ResultStore.folder(of: path)
            if !fileManager.fileExists(atPath: parent) {
                do {
                    try fileManager.createDirectory(atPath: parent, withIntermediateDirectories: true)
                } catch {
                    throw StoreError.unreadable(path: path, reason: "cannot create directory \(parent): \(error.localizedDescription)")
                }
            }
        }
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (mode == .readWriteCreate ? SQLITE_OPEN_CREATE : 0)
        var db: OpaquePointer?
        let code = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        if code != SQLITE_OK {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            handle = nil
            throw Connection.classify(code: code, message: message, path: path, statement: nil)
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        if let handle { sqlite3_close_v2(handle) }
    }

    /// Maps a SQLite result code to the error a user can act on.
    static func classify(code: Int32, message: String, path: String, statement: String?) -> StoreError {
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .locked(path: path)
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return .corrupt(path: path, reason: message)
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH:
            return .unreadable(path: path, reason: message)
        default:
            return .sqlite(path: path, code: code, message: message, statement: statement)
        }
    }

    func error(_ code: Int32, statement: String?) -> StoreError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection"
        return Connection.classify(code: code, message: message, path: path, statement: statement)
    }

    /// Runs one or more statements that take no parameters (schema, pragmas, transaction control).
    func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(errorMessage)
            throw Connection.classify(code: code, message: message, path: path, statement: sql)
        }
    }

    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, statement: sql) }
        return Statement(handle: statement, connection: self, sql: sql)
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}

/// A prepared statement. Parameters are 1-based, columns 0-based, as in the C API.
final class Statement {
    let handle: OpaquePointer
    let connection: Connection
    let sql: String

    init(handle: OpaquePointer, connection: Connection, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    @inline(__always) func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }
    @inline(__always) func bind(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(handle, index, Int64(value))
    }
    @inline(__always) func bind(_ index: Int32, _ value: Double) {
        sqlite3_bind_double(handle, index, value)
    }
    func bind(_ index: Int32, _ value: String?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_text(handle, index, value, -1, winnow_sqlite_transient())
    }
    func bind(_ index: Int32, _ value: Int64?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_int64(handle, index, value)
    }
    func bind(_ index: Int32, _ value: Double?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_double(handle, index, value)
    }
    func bind(_ index: Int32, blob: [UInt8]?) {
        guard let blob else { sqlite3_bind_null(handle, index); return }
        blob.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), winnow_sqlite_transient())
        }
    }

    /// Steps once: `true` when a row is available, `false` when done.
    @discardableResult @inline(__always)
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let error = connection.error(code, statement: sql)
        sqlite3_reset(handle)
        throw error
    }

    @inline(__always) func reset() {
        sqlite3_reset(handle)
    }

    func clearBindings() { sqlite3_clear_bindings(handle) }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: pointer)
    }
    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
    func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }
    func blob(_ column: Int32) -> [UInt8]? {
        guard let pointer = sqlite3_column_blob(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Collects every row through `row`.
    func all<T>(_ row: (Statement) throws -> T) throws -> [T] {
        defer { reset() }
        var result: [T] = []
        while try step() { result.append(try row(self)) }
        return result
    }
}
