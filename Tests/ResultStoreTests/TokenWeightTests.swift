import Foundation
import Testing

@testable import ResultStore

/// Schema v4: mean weights per vocabulary token (`token_weights`); the `text` column of `winnow weights`.
@Suite struct TokenWeightTests {
    /// A database exactly as schema v3 left it: one run with keyed samples and weights.
    func writeVersion3(_ path: String) throws {
        let connection = try Connection(path: path, mode: .readWriteCreate, busyTimeoutMilliseconds: 1_000)
        for index in 0..<3 { try connection.execute(Schema.migrations[index]) }
        try connection.execute(
            """
            PRAGMA user_version = 3;
            INSERT INTO runs (id, application, recipe, seed, started_at, status)
                VALUES (2, 'old', 'application: old', 1, '2026-11-01T00:00:00.000Z', 'completed');
            INSERT INTO samples VALUES (2, 0, 'a', 'train'), (2, 1, 'b', 'train');
            INSERT INTO sample_weights VALUES (2, 1, 0, 0.5), (2, 1, 1, 1.5);
            INSERT INTO weight_steps VALUES (2, 1, 2);
            """)
    }

    @Test func version3FileMigratesAndTakesTokenWeights() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("v3.sqlite")
        try writeVersion3(path)
        let store = try ResultStore(path: path, mode: .existing)
        #expect(Schema.latestVersion >= 4)
        #expect(try store.userVersion() == Schema.latestVersion)
        let old = try store.weights(run: 2)
        #expect(
            old == [SampleWeight(step: 1, sampleID: 0, weight: 0.5, key: "a"), SampleWeight(step: 1, sampleID: 1, weight: 1.5, key: "b")])
        #expect(try store.tokenWeightSteps(run: 2).isEmpty)
        #expect {
            try store.tokenWeights(run: 2, count: 5, descending: true)
        } throws: { error in
            error.localizedDescription.contains("has no token weights")
        }

        let recorder = try makeRun(store)
        try recorder.recordTokenWeights([TokenWeight(step: 1, tokenID: 7, token: "plot", count: 2, weight: 0.9)])
        let again = try ResultStore(path: path, mode: .existing)
        #expect(try again.tokenWeights(run: recorder.runID, count: 5, descending: true).map(\.token) == ["plot"])
        #expect(try again.integrityCheck() == "ok")
    }

    @Test func weightsTableHasATextColumnOnlyWithTexts() {
        let weights = [
            SampleWeight(step: 1, sampleID: 0, weight: 0.5, key: "a"), SampleWeight(step: 1, sampleID: 1, weight: 1.5, key: "b"),
        ]
        #expect(ResultTable.weights(weights).columns == ["step", "sample_id", "sample", "weight"])
        let table = ResultTable.weights(weights, texts: [1: "A plot, with a comma"])
        #expect(table.columns == ["step", "sample_id", "sample", "weight", "text"])
        #expect(table.render(.csv) == "step,sample_id,sample,weight,text\n1,0,a,0.5,\n1,1,b,1.5,\"A plot, with a comma\"\n")
        #expect(table.render(.json).contains("\"text\": null") && table.render(.json).contains("\"text\": \"A plot, with a comma\""))
    }

    @Test func tokenWeightsRankFilterAndFollowTheRun() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("t.sqlite"))
        let recorder = try makeRun(store)
        let first = [
            TokenWeight(step: 1, tokenID: 10, token: "film", count: 4, weight: 1.2),
            TokenWeight(step: 1, tokenID: 11, token: "##ing", count: 1, weight: 0.4),
            TokenWeight(step: 1, tokenID: 12, token: "the", count: 9, weight: 0.8),
            TokenWeight(step: 1, tokenID: 13, token: "plot", count: 2, weight: 0.8),
        ]
        let committed = store.committedTransactions
        try recorder.recordTokenWeights(first)
        #expect(store.committedTransactions == committed + 1)
        try recorder.recordTokenWeights([TokenWeight(step: 2, tokenID: 10, token: "film", count: 3, weight: 1.0)])
        #expect(try store.tokenWeightSteps(run: recorder.runID) == [1, 2])

        #expect(try store.tokenWeights(run: recorder.runID, count: 5, descending: true).map(\.tokenID) == [10], "latest step")
        // Lowest first; equal weights: the more frequent token first.
        #expect(try store.tokenWeights(run: recorder.runID, count: 3, descending: false, step: 1).map(\.token) == ["##ing", "the", "plot"])
        #expect(
            try store.tokenWeights(run: recorder.runID, count: 9, descending: false, step: 1, minimumCount: 3).map(\.token) == [
                "the", "film",
            ])
        #expect(try store.tokenWeights(run: recorder.runID, count: 1, descending: true, step: 1) == [first[0]])
        #expect(ResultTable.tokenWeights([first[1]]).render(.csv) == "step,token_id,token,count,weight\n1,11,##ing,1,0.4\n")
        #expect {
            try store.tokenWeights(run: recorder.runID, count: 1, descending: true, step: 7)
        } throws: { error in
            error.localizedDescription.contains("its last step with token weights is 2")
        }
        #expect(throws: StoreError.self) { try store.tokenWeights(run: recorder.runID, count: 0, descending: true) }
        #expect(throws: StoreError.self) {
            try recorder.recordTokenWeights([
                TokenWeight(step: 3, tokenID: 1, token: "a", count: 1, weight: 1),
                TokenWeight(step: 3, tokenID: 2, token: "b", count: 1, weight: .nan),
            ])
        }
        #expect(try store.tokenWeightSteps(run: recorder.runID) == [1, 2], "nothing from the failed call")

        // A resumed run forgets token weights after its checkpoint; deleting the run removes them.
        try recorder.fail("stopped")
        let reopened = try store.reopenRun(recorder.runID, after: 1)
        #expect(try store.tokenWeightSteps(run: recorder.runID) == [1])
        try reopened.fail("stopped again")
        #expect(try store.count(table: "token_weights", run: recorder.runID) == 4)
        let deleted = try store.deleteRun(recorder.runID)
        #expect(deleted.rows["token_weights"] == 4)
        #expect(try store.count(table: "token_weights") == 0)
    }
}
