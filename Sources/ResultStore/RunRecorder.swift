import Foundation

/// Writes one run's results. Created by `ResultStore.beginRun`, which inserts the run as `running`;
/// finish with `complete(metrics:notes:)` or `fail(_:)`. Use `record(_:)` to have any thrown error mark the
/// run failed, so half-written results never look complete.
///
/// Every `record…` call is one transaction (all of its rows land or none do); wrap several in `batch` to
/// make them one. Sample ids are the zero-based positions of records in the dataset's order unless given.
public final class RunRecorder {
    public let store: ResultStore
    public let runID: Int64
    public private(set) var status: RunStatus = .running
    /// Reopened by `ResultStore.reopenRun`: registering samples the run already has returns their ids.
    public internal(set) var isResumed = false
    /// Registered sample keys → sample ids, loaded on first use by the key-taking `record…` overloads and
    /// dropped whenever registration (or an enclosing batch) may have changed the table.
    var keyCache: [String: Int]?

    init(store: ResultStore, runID: Int64) {
        self.store = store
        self.runID = runID
    }

    func requireRunning(_ what: StaticString) {
        precondition(status == .running, "\(what) on run \(runID) after it was marked \(status.rawValue)")
    }

    /// Runs `body`; if it throws, marks the run failed with the error's description and rethrows.
    public func record<T>(_ body: (RunRecorder) throws -> T) throws -> T {
        do {
            return try body(self)
        } catch {
            if status == .running { try? fail(error.localizedDescription) }
            throw error
        }
    }

    /// Makes every write inside `body` one transaction.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        do {
            return try store.transaction(body)
        } catch {
            keyCache = nil  // a rolled-back registerSamples must not linger in the cache
            throw error
        }
    }

    // MARK: Metrics

    public func recordMetric(_ name: String, _ value: Double, step: Int) throws {
        try recordMetrics([name: value], step: step)
    }

    /// Records a set of metrics at one step (non-finite values are stored as NULL).
    public func recordMetrics(_ metrics: [String: Double], step: Int) throws {
        requireRunning("recordMetrics")
        guard !metrics.isEmpty else { return }
        try store.transaction {
            let insert = try store.connection.prepare(
                "INSERT OR REPLACE INTO metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)")
            for (name, value) in metrics.sorted(by: { $0.key < $1.key }) {
                insert.bind(1, runID)
                insert.bind(2, name)
                insert.bind(3, step)
                insert.bind(4, value.isFinite ? value : nil)
                try insert.step()
                insert.reset()
            }
        }
    }

    // MARK: Importance weights

    /// Records one weight per sample at `step` (an epoch or meta step). `sampleIDs` defaults to 0..<count.
    public func recordWeights(_ weights: [Float], step: Int, sampleIDs: [Int]? = nil) throws {
        requireRunning("recordWeights")
        precondition(
            sampleIDs == nil || sampleIDs!.count == weights.count,
            "recordWeights: \(weights.count) weights but \(sampleIDs!.count) sample ids")
        try weights.withUnsafeBufferPointer { buffer in
            try insertWeights(count: buffer.count, step: step, sampleIDs: sampleIDs) { Double(buffer[$0]) }
        }
    }

    public func recordWeights(_ weights: [Double], step: Int, sampleIDs: [Int]? = nil) throws {
        requireRunning("recordWeights")
        precondition(
            sampleIDs == nil || sampleIDs!.count == weights.count,
            "recordWeights: \(weights.count) weights but \(sampleIDs!.count) sample ids")
        try weights.withUnsafeBufferPointer { buffer in
            try insertWeights(count: buffer.count, step: step, sampleIDs: sampleIDs) { buffer[$0] }
        }
    }

    @inline(__always)
    private func insertWeights(count: Int, step: Int, sampleIDs: [Int]?, weight: (Int) -> Double) throws {
        try store.transaction {
            let insert = try store.connection.prepare(
                "INSERT INTO sample_weights (run_id, step, sample_id, weight) VALUES (?, ?, ?, ?)")
            insert.bind(1, runID)
            insert.bind(2, step)
            for index in 0..<count {
                // Bindings persist across sqlite3_reset, so only the changing columns are rebound.
                let value = weight(index)
                if value.isNaN { throw notANumber("weight", sampleID: sampleIDs?[index] ?? index, step: step) }
                insert.bind(3, sampleIDs?[index] ?? index)
                insert.bind(4, value)
                try insert.step()
                insert.reset()
            }
            // One row per step keeps "latest step" and per-sample trajectories to index lookups.
            let steps = try store.connection.prepare(
                """
                INSERT INTO weight_steps (run_id, step, sample_count) VALUES (?1, ?2, ?3)
                ON CONFLICT (run_id, step) DO UPDATE SET sample_count = sample_count + ?3
                """)
            steps.bind(1, runID)
            steps.bind(2, step)
            steps.bind(3, count)
            try steps.step()
            steps.reset()
        }
    }

    /// SQLite stores NaN as NULL, which the NOT NULL columns reject with an opaque message: say what happened.
    private func notANumber(_ what: String, sampleID: Int, step: Int?) -> StoreError {
        .invalidArgument(
            "run \(runID): the \(what) of sample \(sampleID)" + (step.map { " at step \($0)" } ?? "")
                + " is NaN (did training diverge?); nothing from this call was recorded")
    }

    // MARK: Corrected labels

    /// Records corrected labels (a later call for the same sample replaces the earlier row).
    public func recordLabels(_ labels: [CorrectedLabel]) throws {
        requireRunning("recordLabels")
        try store.transaction {
            let insert = try store.connection.prepare(
                """
                INSERT OR REPLACE INTO corrected_labels (run_id, sample_id, original_label, corrected_label, distribution)
                VALUES (?, ?, ?, ?, ?)
                """)
            insert.bind(1, runID)
            for label in labels {
                insert.bind(2, label.sampleID)
                insert.bind(3, label.originalLabel.map(Int64.init))
                insert.bind(4, label.correctedLabel)
                insert.bind(5, label.distribution.map { JSONText.array($0) })
                try insert.step()
                insert.reset()
            }
        }
    }

    // MARK: Pruning scores

    /// Records one pruning score per sample under `name` at `step` (an epoch, or 0 for a score computed once),
    /// in one transaction; a later call for the same name, step and sample replaces the row. Store every score
    /// so that higher means more worth keeping (docs/SCHEMA.md lists the convention of each built-in name).
    /// `sampleIDs` defaults to 0..<count. Throws for a name that is empty, `weight` (reserved for importance
    /// weights in manifests) or not made of `a-z`, `0-9`, `_`, `-`, `.`, and for a NaN score.
    public func recordScores(_ scores: [Double], name: String = ScoreName.legacy, step: Int = 0, sampleIDs: [Int]? = nil) throws {
        requireRunning("recordScores")
        precondition(
            sampleIDs == nil || sampleIDs!.count == scores.count,
            "recordScores: \(scores.count) scores but \(sampleIDs!.count) sample ids")
        try ScoreName.validate(name)
        try store.transaction {
            let insert = try store.connection.prepare(
                "INSERT OR REPLACE INTO pruning_scores (run_id, name, step, sample_id, score) VALUES (?, ?, ?, ?, ?)")
            insert.bind(1, runID)
            insert.bind(2, name)
            insert.bind(3, step)
            for index in scores.indices {
                if scores[index].isNaN {
                    throw notANumber("pruning score '\(name)'", sampleID: sampleIDs?[index] ?? index, step: step)
                }
                insert.bind(4, sampleIDs?[index] ?? index)
                insert.bind(5, scores[index])
                try insert.step()
                insert.reset()
            }
        }
    }

    /// `recordScores` for `Float` scores.
    public func recordScores(_ scores: [Float], name: String = ScoreName.legacy, step: Int = 0, sampleIDs: [Int]? = nil) throws {
        try recordScores(scores.map(Double.init), name: name, step: step, sampleIDs: sampleIDs)
    }

    // MARK: Checkpoints

    /// Records a checkpoint written to a file (store the path) or held in memory (store the bytes).
    @discardableResult
    public func recordCheckpoint(step: Int, path: String? = nil, data: [UInt8]? = nil) throws -> Int64 {
        requireRunning("recordCheckpoint")
        precondition(path != nil || data != nil, "recordCheckpoint needs a path or data")
        return try store.transaction {
            let insert = try store.connection.prepare(
                "INSERT INTO checkpoints (run_id, step, path, data, created_at) VALUES (?, ?, ?, ?, ?)")
            insert.bind(1, runID)
            insert.bind(2, step)
            insert.bind(3, path)
            insert.bind(4, blob: data)
            insert.bind(5, Timestamp.now())
            try insert.step()
            insert.reset()
            return store.connection.lastInsertRowID
        }
    }

    // MARK: Finishing

    /// Marks the run completed with its final metrics and notes.
    public func complete(metrics: [String: Double], notes: [String] = []) throws {
        requireRunning("complete")
        try finish(status: .completed, metrics: metrics, notes: notes, error: nil)
    }

    /// Marks the run failed. Results already written stay for inspection; queries flag the run as failed.
    public func fail(_ message: String, metrics: [String: Double] = [:], notes: [String] = []) throws {
        requireRunning("fail")
        try finish(status: .failed, metrics: metrics, notes: notes, error: message)
    }

    private func finish(status newStatus: RunStatus, metrics: [String: Double], notes: [String], error: String?) throws {
        try store.transaction {
            let update = try store.connection.prepare(
                """
                UPDATE runs SET status = ?, ended_at = ?, metrics = ?, notes = ?, error = ? WHERE id = ?
                """)
            update.bind(1, newStatus.rawValue)
            update.bind(2, Timestamp.now())
            update.bind(3, JSONText.object(metrics))
            update.bind(4, JSONText.array(notes))
            update.bind(5, error)
            update.bind(6, runID)
            try update.step()
            update.reset()
        }
        status = newStatus
    }
}

extension ResultStore {
    /// Marks a still-running run failed from outside its recorder (an interrupt handler on another thread,
    /// or cleaning up after a crash). Returns false when the run was not running.
    @discardableResult
    public func markFailed(run runID: Int64, message: String) throws -> Bool {
        try requireRun(runID)
        return try transaction {
            let update = try connection.prepare(
                """
                UPDATE runs SET status = 'failed', ended_at = ?, error = ? WHERE id = ? AND status = 'running'
                """)
            update.bind(1, Timestamp.now())
            update.bind(2, message)
            update.bind(3, runID)
            try update.step()
            update.reset()
            return connection.changes > 0
        }
    }

    /// Inserts a run with status `running` and returns the recorder that writes its results.
    public func beginRun(_ descriptor: RunDescriptor) throws -> RunRecorder {
        let runID: Int64 = try transaction {
            let insert = try connection.prepare(
                """
                INSERT INTO runs (application, recipe, recipe_path, code_revision, seed, started_at, status, environment)
                VALUES (?, ?, ?, ?, ?, ?, 'running', ?)
                """)
            insert.bind(1, descriptor.application)
            insert.bind(2, descriptor.recipe)
            insert.bind(3, descriptor.recipePath)
            insert.bind(4, descriptor.codeRevision)
            insert.bind(5, Int64(bitPattern: descriptor.seed))
            insert.bind(6, Timestamp.now())
            insert.bind(7, descriptor.environment?.json)
            try insert.step()
            insert.reset()
            return connection.lastInsertRowID
        }
        return RunRecorder(store: self, runID: runID)
    }
}
