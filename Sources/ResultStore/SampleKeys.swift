import CSQLite
import Foundation

/// Stable sample keys: the dataset's own ids (`DataRecord.id`: the dataset's id, else `member#index`),
/// mapped to the integer `sample_id`s every per-sample table uses (table `samples`, schema v2).
extension RunRecorder {
    /// Registers the run's samples in order and returns the sample ids they were given: `0..<keys.count` for
    /// the first call, continuing after the last registered id for later calls (one call per split, say).
    /// One transaction with one prepared statement. A key registered before, or twice in `keys`, is
    /// `StoreError.duplicateSampleKey` naming it, and nothing from the call is recorded.
    @discardableResult
    public func registerSamples(keys: [String], split: String? = nil) throws -> Range<Int> {
        requireRunning("registerSamples")
        keyCache = nil
        if isResumed, let range = try alreadyRegistered(keys) { return range }
        return try store.transaction {
            let next = try store.connection.prepare("SELECT coalesce(max(sample_id) + 1, 0) FROM samples WHERE run_id = ?")
            next.bind(1, runID)
            _ = try next.step()
            let start = next.int(0)
            next.reset()
            let insert = try store.connection.prepare(
                "INSERT INTO samples (run_id, sample_id, key, split) VALUES (?, ?, ?, ?)")
            insert.bind(1, runID)
            insert.bind(4, split)
            var id = start
            for key in keys {
                if key.isEmpty {
                    throw StoreError.invalidArgument("run \(runID): sample \(id) has an empty key; nothing from this call was recorded")
                }
                insert.bind(2, id)
                insert.bind(3, key)
                do {
                    try insert.step()
                } catch StoreError.sqlite(_, let code, _, _) where code & 0xff == SQLITE_CONSTRAINT {
                    throw StoreError.duplicateSampleKey(path: store.path, runID: runID, key: key)
                }
                insert.reset()
                id += 1
            }
            return start..<id
        }
    }

    /// The sample ids of `keys`, in order; an unregistered key is `StoreError.unknownSampleKey`.
    public func sampleIDs(forKeys keys: [String]) throws -> [Int] {
        if keyCache == nil { keyCache = try store.sampleIDsByKey(run: runID) }
        let cache = keyCache!
        return try keys.map { key in
            guard let id = cache[key] else { throw StoreError.unknownSampleKey(path: store.path, runID: runID, key: key) }
            return id
        }
    }

    /// Records one weight per registered sample key at `step` (see `registerSamples`).
    public func recordWeights(_ weights: [Float], step: Int, keys: [String]) throws {
        precondition(keys.count == weights.count, "recordWeights: \(weights.count) weights but \(keys.count) keys")
        try recordWeights(weights, step: step, sampleIDs: try sampleIDs(forKeys: keys))
    }

    public func recordWeights(_ weights: [Double], step: Int, keys: [String]) throws {
        precondition(keys.count == weights.count, "recordWeights: \(weights.count) weights but \(keys.count) keys")
        try recordWeights(weights, step: step, sampleIDs: try sampleIDs(forKeys: keys))
    }

    /// Records corrected labels for registered sample keys: `labels[i]` belongs to `keys[i]` (its `sampleID`
    /// is replaced by the key's id).
    public func recordLabels(_ labels: [CorrectedLabel], keys: [String]) throws {
        precondition(keys.count == labels.count, "recordLabels: \(labels.count) labels but \(keys.count) keys")
        let ids = try sampleIDs(forKeys: keys)
        var relabeled = labels
        for index in relabeled.indices { relabeled[index].sampleID = ids[index] }
        try recordLabels(relabeled)
    }

    /// Records one pruning score per registered sample key under `name` at `step` (see `recordScores(_:name:step:sampleIDs:)`).
    public func recordScores(_ scores: [Double], name: String = ScoreName.legacy, step: Int = 0, keys: [String]) throws {
        precondition(keys.count == scores.count, "recordScores: \(scores.count) scores but \(keys.count) keys")
        try recordScores(scores, name: name, step: step, sampleIDs: try sampleIDs(forKeys: keys))
    }

    /// `recordScores(_:name:step:keys:)` for `Float` scores.
    public func recordScores(_ scores: [Float], name: String = ScoreName.legacy, step: Int = 0, keys: [String]) throws {
        try recordScores(scores.map(Double.init), name: name, step: step, keys: keys)
    }
}

extension ResultStore {
    /// Every registered key of a run → its sample id.
    func sampleIDsByKey(run runID: Int64) throws -> [String: Int] {
        let statement = try connection.prepare("SELECT key, sample_id FROM samples WHERE run_id = ?")
        statement.bind(1, runID)
        var result: [String: Int] = [:]
        for (key, id) in try statement.all({ ($0.text(0) ?? "", $0.int(1)) }) { result[key] = id }
        return result
    }

    /// The registered keys of a run in sample-id order (empty when the run registered none).
    public func sampleKeys(run runID: Int64) throws -> [String] {
        try requireRun(runID)
        let statement = try connection.prepare("SELECT key FROM samples WHERE run_id = ? ORDER BY sample_id")
        statement.bind(1, runID)
        return try statement.all { $0.text(0) ?? "" }
    }

    /// The distinct splits named when the run's samples were registered, sorted (nil splits left out).
    public func sampleSplits(run runID: Int64) throws -> [String] {
        try requireRun(runID)
        let statement = try connection.prepare(
            "SELECT DISTINCT split FROM samples WHERE run_id = ? AND split IS NOT NULL ORDER BY split")
        statement.bind(1, runID)
        return try statement.all { $0.text(0) ?? "" }
    }

    /// True when the run registered sample keys.
    public func hasSampleKeys(run runID: Int64) throws -> Bool {
        let statement = try connection.prepare("SELECT 1 FROM samples WHERE run_id = ? LIMIT 1")
        statement.bind(1, runID)
        defer { statement.reset() }
        return try statement.step()
    }

    /// The sample id a user means by `text` (from `--sample`): a registered key of the run, else an integer
    /// sample id. Anything else is `StoreError.unknownSampleKey`.
    public func resolveSample(run runID: Int64, _ text: String) throws -> Int {
        try requireRun(runID)
        let statement = try connection.prepare("SELECT sample_id FROM samples WHERE run_id = ? AND key = ?")
        statement.bind(1, runID)
        statement.bind(2, text)
        defer { statement.reset() }
        if try statement.step() { return statement.int(0) }
        if let id = Int(text) { return id }
        throw StoreError.unknownSampleKey(path: path, runID: runID, key: text)
    }
}

extension RunRecorder {
    /// A resumed run registers its samples again: the range they already have, if `keys` are registered
    /// (in this order); nil if the first key is not registered; an error if the run recorded other keys.
    func alreadyRegistered(_ keys: [String]) throws -> Range<Int>? {
        guard let first = keys.first else { return nil }
        let find = try store.connection.prepare("SELECT sample_id FROM samples WHERE run_id = ? AND key = ?")
        defer { find.reset() }
        find.bind(1, runID)
        find.bind(2, first)
        guard try find.step() else { return nil }
        let start = find.int(0)
        let list = try store.connection.prepare(
            "SELECT key FROM samples WHERE run_id = ? AND sample_id >= ? AND sample_id < ? ORDER BY sample_id")
        defer { list.reset() }
        list.bind(1, runID)
        list.bind(2, start)
        list.bind(3, start + keys.count)
        var recorded: [String] = []
        while try list.step() { recorded.append(list.text(0) ?? "") }
        guard recorded == keys else {
            throw StoreError.invalidArgument(
                "run \(runID) is resumed with other samples than it registered (the dataset changed?); nothing was recorded")
        }
        return start..<(start + keys.count)
    }
}
