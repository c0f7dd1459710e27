import Foundation

/// What `deleteRun` removed.
public struct DeletedRun: Sendable, Equatable {
    public var runID: Int64
    /// Rows removed, by table.
    public var rows: [String: Int]
    /// Checkpoint files removed (recorded and orphaned) and their bytes.
    public var files: [String]
    public var bytes: Int
}

extension ResultStore {
    /// The tables holding a run's rows, children first.
    static let runTables = [
        "sample_weights", "weight_steps", "token_weights", "corrected_labels", "pruning_scores", "metrics", "checkpoints", "samples",
    ]

    /// Removes a run: its rows in every table (one transaction), then its checkpoint files, its checkpoint folder
    /// when it is left empty, and its lock file. Refuses a run whose process still holds its lock.
    public func deleteRun(_ runID: Int64) throws -> DeletedRun {
        let run = try run(runID)
        if run.status == .running, RunOwnerLock.owner(store: self, run: runID) == .alive {
            throw StoreError.invalidArgument("run \(runID) is still running (its process holds the run's lock); stop it first")
        }
        let usage = try checkpointUsage(run: runID)
        var rows: [String: Int] = [:]
        try transaction {
            for table in Self.runTables + ["runs"] {
                let column = table == "runs" ? "id" : "run_id"
                let delete = try connection.prepare("DELETE FROM \(table) WHERE \(column) = ?")
                delete.bind(1, runID)
                try delete.step()
                rows[table] = connection.changes
                delete.reset()
            }
        }
        // The rows are gone; a file that cannot be removed now is an orphan `runs --checkpoints` would not see,
        // so its failure is reported rather than ignored.
        var removed: [String] = []
        for file in usage.files {
            try FileManager.default.removeItem(atPath: file.path)
            removed.append(file.path)
        }
        let folder = checkpointFolder(run: runID)
        if (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true {
            try FileManager.default.removeItem(atPath: folder)
        }
        try? FileManager.default.removeItem(atPath: RunOwnerLock.path(store: self, run: runID))
        return DeletedRun(runID: runID, rows: rows, files: removed, bytes: usage.files.reduce(0) { $0 + $1.byteCount })
    }
}
