import Foundation

/// Read-side API. Every query taking a run id throws `StoreError.runNotFound` for an unknown id, and
/// `StoreError.noResults` when the run holds none of what was asked for.
extension ResultStore {
    // MARK: Runs

    /// All runs, newest first.
    public func runs(limit: Int? = nil) throws -> [RunInfo] {
        let statement = try connection.prepare(
            """
            SELECT id, application, recipe, recipe_path, code_revision, seed, started_at, ended_at, status,
                   metrics, notes, error, environment
            FROM runs ORDER BY id DESC LIMIT ?
            """)
        statement.bind(1, Int64(limit ?? -1))
        return try statement.all(Self.runInfo)
    }

    public func run(_ runID: Int64) throws -> RunInfo {
        let statement = try connection.prepare(
            """
            SELECT id, application, recipe, recipe_path, code_revision, seed, started_at, ended_at, status,
                   metrics, notes, error, environment
            FROM runs WHERE id = ?
            """)
        statement.bind(1, runID)
        guard let run = try statement.all(Self.runInfo).first else {
            throw StoreError.runNotFound(path: path, runID: runID)
        }
        return run
    }

    private static func runInfo(_ row: Statement) -> RunInfo {
        RunInfo(
            id: row.int64(0), application: row.text(1) ?? "", recipe: row.text(2) ?? "", recipePath: row.text(3),
            codeRevision: row.text(4) ?? "unknown", seed: UInt64(bitPattern: row.int64(5)),
            startedAt: row.text(6) ?? "", endedAt: row.text(7),
            status: RunStatus(rawValue: row.text(8) ?? "") ?? .failed,
            metrics: decodeMetrics(row.text(9)), notes: decodeNotes(row.text(10)), error: row.text(11),
            environment: RunEnvironment.decode(row.text(12)))
    }

    private static func decodeMetrics(_ text: String?) -> [String: Double] {
        guard let data = text?.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        var metrics: [String: Double] = [:]
        for (key, value) in object {
            if let number = value as? NSNumber { metrics[key] = number.doubleValue } else { metrics[key] = .nan }
        }
        return metrics
    }

    private static func decodeNotes(_ text: String?) -> [String] {
        guard let data = text?.data(using: .utf8) else { return [] }
        return (try? JSONSerialization.jsonObject(with: data) as? [String]) ?? []
    }

    // MARK: Weights

    /// Steps at which weights were recorded, ascending.
    public func weightSteps(run runID: Int64) throws -> [Int] {
        try requireRun(runID)
        let statement = try connection.prepare("SELECT step FROM weight_steps WHERE run_id = ? ORDER BY step")
        statement.bind(1, runID)
        return try statement.all { $0.int(0) }
    }

    /// The last step with recorded weights.
    public func latestWeightStep(run runID: Int64) throws -> Int {
        try requireRun(runID)
        let statement = try connection.prepare("SELECT max(step) FROM weight_steps WHERE run_id = ?")
        statement.bind(1, runID)
        defer { statement.reset() }
        guard try statement.step(), !statement.isNull(0) else {
            throw StoreError.noResults(path: path, runID: runID, what: "sample weights")
        }
        return statement.int(0)
    }

    /// The `count` highest weights at `step` (default: the latest step), ties broken by sample id.
    public func topWeights(run runID: Int64, count: Int, step: Int? = nil) throws -> [SampleWeight] {
        try rankedWeights(run: runID, count: count, step: step, descending: true)
    }

    /// The `count` lowest weights at `step` (default: the latest step), ties broken by sample id.
    public func bottomWeights(run runID: Int64, count: Int, step: Int? = nil) throws -> [SampleWeight] {
        try rankedWeights(run: runID, count: count, step: step, descending: false)
    }

    /// `step` when the run recorded weights at it; otherwise throws ``StoreError/noResults(path:runID:what:)``
    /// naming the run's last step with weights (nil: the latest step).
    public func requireWeightStep(run runID: Int64, _ step: Int?) throws -> Int {
        let last = try latestWeightStep(run: runID)
        guard let step else { return last }
        let statement = try connection.prepare("SELECT 1 FROM weight_steps WHERE run_id = ? AND step = ?")
        defer { statement.reset() }
        statement.bind(1, runID)
        statement.bind(2, step)
        guard try statement.step() else {
            throw StoreError.noResults(
                path: path, runID: runID,
                what: "sample weights at step \(step) (its last step with weights is \(last))")
        }
        return step
    }

    private func rankedWeights(run runID: Int64, count: Int, step: Int?, descending: Bool) throws -> [SampleWeight] {
        guard count > 0 else { throw StoreError.invalidArgument("the number of weights must be positive, got \(count)") }
        let step = try requireWeightStep(run: runID, step)
        let order = descending ? "weight DESC" : "weight ASC"
        let statement = try connection.prepare(
            """
            SELECT w.step, w.sample_id, w.weight, s.key FROM sample_weights w
            LEFT JOIN samples s ON s.run_id = w.run_id AND s.sample_id = w.sample_id
            WHERE w.run_id = ? AND w.step = ?
            ORDER BY w.\(order), w.sample_id LIMIT ?
            """)
        statement.bind(1, runID)
        statement.bind(2, step)
        statement.bind(3, count)
        return try statement.all(Self.sampleWeight)
    }

    /// Every weight at `step` (default: the latest), by sample id.
    public func weights(run runID: Int64, step: Int? = nil) throws -> [SampleWeight] {
        let step = try requireWeightStep(run: runID, step)
        let statement = try connection.prepare(
            """
            SELECT w.step, w.sample_id, w.weight, s.key FROM sample_weights w
            LEFT JOIN samples s ON s.run_id = w.run_id AND s.sample_id = w.sample_id
            WHERE w.run_id = ? AND w.step = ? ORDER BY w.sample_id
            """)
        statement.bind(1, runID)
        statement.bind(2, step)
        return try statement.all(Self.sampleWeight)
    }

    private static func sampleWeight(_ row: Statement) -> SampleWeight {
        SampleWeight(step: row.int(0), sampleID: row.int(1), weight: row.double(2), key: row.text(3))
    }

    /// One sample's weight at every recorded step, the sample named by its registered key (or, for runs
    /// without keys, by its integer id written as text).
    public func weights(run runID: Int64, sample: String) throws -> [SampleWeight] {
        try weights(run: runID, sampleID: resolveSample(run: runID, sample))
    }

    /// One sample's weight at every recorded step (its trajectory).
    public func weights(run runID: Int64, sampleID: Int) throws -> [SampleWeight] {
        try requireRun(runID)
        let statement = try connection.prepare(
            """
            SELECT w.step, w.sample_id, w.weight, k.key FROM weight_steps s CROSS JOIN sample_weights w
            ON w.run_id = s.run_id AND w.step = s.step AND w.sample_id = ?2
            LEFT JOIN samples k ON k.run_id = w.run_id AND k.sample_id = w.sample_id
            WHERE s.run_id = ?1 ORDER BY w.step
            """)
        statement.bind(1, runID)
        statement.bind(2, sampleID)
        let rows = try statement.all(Self.sampleWeight)
        if rows.isEmpty { throw StoreError.noResults(path: path, runID: runID, what: "weights for sample \(sampleID)") }
        return rows
    }

    /// Equal-width histogram of the weights at `step` (default: the latest step).
    public func weightHistogram(run runID: Int64, bins: Int = 20, step: Int? = nil) throws -> WeightHistogram {
        let step = try requireWeightStep(run: runID, step)
        return try histogram(
            table: "sample_weights", column: "weight", filter: "step = ?3", bins: bins, step: step,
            run: runID, what: "sample weights at step \(step)"
        ) { $0.bind(3, step) }
    }

    /// Equal-width histogram of `column` over the rows of `table` of one run that pass `filter` (which may use
    /// parameters ?3 to ?7, bound by `bind`; ?1, ?2, ?8, ?9 are taken). `step` is reported in the result.
    func histogram(
        table: String, column: String, filter: String, bins: Int, step: Int, run runID: Int64, what: String,
        bind: (Statement) -> Void
    ) throws -> WeightHistogram {
        guard bins > 0, bins <= Self.maximumHistogramBins else {
            throw StoreError.invalidArgument("histogram bins must be 1…\(Self.maximumHistogramBins), got \(bins)")
        }
        let summary = try connection.prepare(
            """
            SELECT count(*), min(\(column)), max(\(column)), avg(\(column)) FROM \(table) WHERE run_id = ?1 AND \(filter)
            """)
        summary.bind(1, runID)
        bind(summary)
        guard try summary.step(), summary.int(0) > 0 else {
            summary.reset()
            throw StoreError.noResults(path: path, runID: runID, what: what)
        }
        let total = summary.int(0), low = summary.double(1), high = summary.double(2), mean = summary.double(3)
        summary.reset()
        let width = high > low ? (high - low) / Double(bins) : 1
        var counts = [Int](repeating: 0, count: bins)
        let bucket = try connection.prepare(
            """
            SELECT min(CAST((\(column) - ?8) / ?9 AS INTEGER), ?2 - 1) AS bin, count(*)
            FROM \(table) WHERE run_id = ?1 AND \(filter) GROUP BY bin
            """)
        bucket.bind(1, runID)
        bucket.bind(2, bins)
        bind(bucket)
        bucket.bind(8, low)
        bucket.bind(9, width)
        for (index, count) in try bucket.all({ ($0.int(0), $0.int(1)) }) where index >= 0 && index < bins {
            counts[index] += count
        }
        let edges = (0..<bins).map {
            WeightHistogram.Bin(lower: low + Double($0) * width, upper: low + Double($0 + 1) * width, count: counts[$0])
        }
        return WeightHistogram(step: step, count: total, minimum: low, maximum: high, mean: mean, bins: edges)
    }

    // MARK: Labels, scores, metrics, checkpoints

    /// Corrected labels by sample id; `changedOnly` keeps those whose correction differs from the weak label.
    public func labels(run runID: Int64, changedOnly: Bool = false) throws -> [CorrectedLabel] {
        try requireRun(runID)
        let filter = changedOnly ? "AND (l.original_label IS NULL OR l.original_label <> l.corrected_label)" : ""
        let statement = try connection.prepare(
            """
            SELECT l.sample_id, l.original_label, l.corrected_label, l.distribution, s.key FROM corrected_labels l
            LEFT JOIN samples s ON s.run_id = l.run_id AND s.sample_id = l.sample_id
            WHERE l.run_id = ? \(filter) ORDER BY l.sample_id
            """)
        statement.bind(1, runID)
        let rows = try statement.all { row in
            CorrectedLabel(
                sampleID: row.int(0), originalLabel: row.optionalInt64(1).map(Int.init),
                correctedLabel: row.int(2), distribution: row.text(3).flatMap(Self.decodeFloats),
                key: row.text(4))
        }
        if rows.isEmpty, !changedOnly, try count(table: "corrected_labels", run: runID) == 0 {
            throw StoreError.noResults(path: path, runID: runID, what: "corrected labels")
        }
        return rows
    }

    private static func decodeFloats(_ text: String) -> [Float]? {
        guard let data = text.data(using: .utf8),
            let values = try? JSONSerialization.jsonObject(with: data) as? [Any]
        else { return nil }
        return values.map { ($0 as? NSNumber)?.floatValue ?? .nan }
    }

    /// The metric time series of a run (one name, or all), by name then step.
    public func metrics(run runID: Int64, name: String? = nil) throws -> [MetricPoint] {
        try requireRun(runID)
        let statement = try connection.prepare(
            """
            SELECT name, step, value FROM metrics WHERE run_id = ?1 AND (?2 IS NULL OR name = ?2) ORDER BY name, step
            """)
        statement.bind(1, runID)
        statement.bind(2, name)
        return try statement.all { MetricPoint(name: $0.text(0) ?? "", step: $0.int(1), value: $0.optionalDouble(2)) }
    }

    public func checkpoints(run runID: Int64) throws -> [CheckpointInfo] {
        try requireRun(runID)
        let statement = try connection.prepare(
            """
            SELECT id, step, path, coalesce(length(data), 0), created_at FROM checkpoints WHERE run_id = ? ORDER BY step, id
            """)
        statement.bind(1, runID)
        return try statement.all {
            CheckpointInfo(id: $0.int64(0), step: $0.int(1), path: $0.text(2), byteCount: $0.int(3), createdAt: $0.text(4) ?? "")
        }
    }

    /// The bytes of a checkpoint stored in the database (nil when it was recorded as a path).
    public func checkpointData(id: Int64) throws -> [UInt8]? {
        let statement = try connection.prepare("SELECT data FROM checkpoints WHERE id = ?")
        statement.bind(1, id)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.blob(0)
    }

    /// Row count of one of the per-run tables (for tests, benchmarks and emptiness checks).
    public func count(table: String, run runID: Int64? = nil) throws -> Int {
        let allowed = ["runs"] + Self.runTables
        guard allowed.contains(table) else { throw StoreError.invalidArgument("unknown table \(table)") }
        let column = table == "runs" ? "id" : "run_id"
        let statement = try connection.prepare("SELECT count(*) FROM \(table) WHERE ?1 IS NULL OR \(column) = ?1")
        statement.bind(1, runID)
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int(0)
    }
}
