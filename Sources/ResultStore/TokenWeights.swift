import Foundation

/// The mean learned weight of one vocabulary token at one step (table `token_weights`, schema v4): over every
/// time the token was a masked MLM target in that step's batches (continued pretraining).
public struct TokenWeight: Sendable, Equatable {
    /// The step (epoch) the mean is over.
    public var step: Int
    /// The token's id in the run's vocabulary.
    public var tokenID: Int
    /// The token as the vocabulary spells it (`##ing` for a word-inner WordPiece).
    public var token: String
    /// How many masked tokens the mean is over.
    public var count: Int
    /// The mean weight.
    public var weight: Double

    /// One row as recorded and queried.
    public init(step: Int, tokenID: Int, token: String, count: Int, weight: Double) {
        self.step = step
        self.tokenID = tokenID
        self.token = token
        self.count = count
        self.weight = weight
    }
}

extension RunRecorder {
    /// Records the mean weight per vocabulary token, one row per token, in one transaction (a later call for
    /// the same step and token replaces the row). Throws, recording nothing, for a NaN weight or a count
    /// below 1.
    public func recordTokenWeights(_ weights: [TokenWeight]) throws {
        requireRunning("recordTokenWeights")
        try store.transaction {
            let insert = try store.connection.prepare(
                "INSERT OR REPLACE INTO token_weights (run_id, step, token_id, token, count, weight) VALUES (?, ?, ?, ?, ?, ?)")
            insert.bind(1, runID)
            for row in weights {
                guard !row.weight.isNaN, row.count >= 1 else {
                    throw StoreError.invalidArgument(
                        "run \(runID): token \(row.tokenID) ('\(row.token)') at step \(row.step) has weight \(row.weight) "
                            + "over \(row.count) tokens (did training diverge?); nothing from this call was recorded")
                }
                insert.bind(2, row.step)
                insert.bind(3, row.tokenID)
                insert.bind(4, row.token)
                insert.bind(5, row.count)
                insert.bind(6, row.weight)
                try insert.step()
                insert.reset()
            }
        }
    }
}

extension ResultStore {
    /// Steps at which the run recorded token weights, ascending.
    public func tokenWeightSteps(run runID: Int64) throws -> [Int] {
        try requireRun(runID)
        let statement = try connection.prepare("SELECT DISTINCT step FROM token_weights WHERE run_id = ? ORDER BY step")
        statement.bind(1, runID)
        return try statement.all { $0.int(0) }
    }

    /// The `count` tokens with the highest (`descending`) or lowest mean weight at `step` (default: the latest
    /// step with token weights) among those masked at least `minimumCount` times; ties go to the more frequent
    /// token, then the lower id. A run without token weights, or a step it did not record, is
    /// ``StoreError/noResults(path:runID:what:)``.
    public func tokenWeights(
        run runID: Int64, count: Int, descending: Bool, step: Int? = nil, minimumCount: Int = 1
    ) throws -> [TokenWeight] {
        guard count > 0 else { throw StoreError.invalidArgument("the number of tokens must be positive, got \(count)") }
        let steps = try tokenWeightSteps(run: runID)
        guard let last = steps.last else {
            throw StoreError.noResults(
                path: path, runID: runID,
                what: "token weights (continued-pretraining runs with method sama or tartan-mt record them)")
        }
        let chosen = step ?? last
        guard steps.contains(chosen) else {
            throw StoreError.noResults(
                path: path, runID: runID, what: "token weights at step \(chosen) (its last step with token weights is \(last))")
        }
        let order = descending ? "weight DESC" : "weight ASC"
        let statement = try connection.prepare(
            """
            SELECT step, token_id, token, count, weight FROM token_weights
            WHERE run_id = ? AND step = ? AND count >= ?
            ORDER BY \(order), count DESC, token_id LIMIT ?
            """)
        statement.bind(1, runID)
        statement.bind(2, chosen)
        statement.bind(3, minimumCount)
        statement.bind(4, count)
        return try statement.all {
            TokenWeight(step: $0.int(0), tokenID: $0.int(1), token: $0.text(2) ?? "", count: $0.int(3), weight: $0.double(4))
        }
    }
}
