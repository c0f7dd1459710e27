import Foundation

/// Why a run cannot be resumed.
public struct RunNotResumable: Error, LocalizedError, Equatable {
    public var runID: Int64
    public var reason: String
    public init(runID: Int64, reason: String) { self.runID = runID; self.reason = reason }
    public var errorDescription: String? { "run \(runID) cannot be resumed: \(reason)" }
}

extension RunInfo {
    /// Throws unless the run may be resumed: failed, or still marked running with `force`.
    public func checkResumable(force: Bool) throws {
        switch status {
        case .completed: throw RunNotResumable(runID: id, reason: "it completed")
        case .running where !force:
            throw RunNotResumable(runID: id, reason: "it is still marked running (if its process is gone, resume with --force)")
        default: break
        }
    }
}

extension ResultStore {
    /// The newest checkpoint of a run (highest step), if any.
    public func latestCheckpoint(run runID: Int64) throws -> CheckpointInfo? {
        try checkpoints(run: runID).last
    }

    /// Reopens a failed run for resumption: deletes whatever it recorded after `step` (the step of the
    /// checkpoint it resumes from, so the resumed run writes those steps again exactly once), sets it
    /// running again, and returns its recorder. One transaction: a refused resume changes nothing.
    /// Completed runs are refused; a run still marked running is refused unless `force` (a crashed process
    /// that could not mark it failed). The run keeps the environment it started in; `environment` is recorded
    /// only for a run that has none (one started before schema v5).
    public func reopenRun(
        _ runID: Int64, after step: Int, force: Bool = false, environment: RunEnvironment? = nil
    ) throws -> RunRecorder {
        try run(runID).checkResumable(force: force)
        try transaction {
            for table in ["sample_weights", "weight_steps", "token_weights", "metrics", "checkpoints", "pruning_scores"] {
                let delete = try connection.prepare("DELETE FROM \(table) WHERE run_id = ? AND step > ?")
                delete.bind(1, runID)
                delete.bind(2, step)
                try delete.step()
                delete.reset()
            }
            let update = try connection.prepare(
                """
                UPDATE runs SET status = 'running', ended_at = NULL, error = NULL, metrics = NULL, notes = NULL,
                    environment = coalesce(environment, ?) WHERE id = ?
                """)
            update.bind(1, environment?.json)
            update.bind(2, runID)
            try update.step()
            update.reset()
        }
        let recorder = RunRecorder(store: self, runID: runID)
        recorder.isResumed = true
        return recorder
    }
}
