import Foundation
import Testing
@testable import ResultStore

/// Schema v3: named pruning scores, one row per (run, name, step, sample).
@Suite struct ScoreTests {
    /// A database exactly as schema v2 left it, with one run holding two unnamed scores.
    func writeVersion2(_ path: String) throws {
        let connection = try Connection(path: path, mode: .readWriteCreate, busyTimeoutMilliseconds: 1_000)
        try connection.execute(Schema.migrations[0])
        try connection.execute(Schema.migrations[1])
        try connection.execute(
            """
            PRAGMA user_version = 2;
            INSERT INTO runs (id, application, recipe, seed, started_at, status)
                VALUES (4, 'old', 'application: old', 1, '2026-11-01T00:00:00.000Z', 'completed');
            INSERT INTO samples VALUES (4, 0, 'a', 'train'), (4, 1, 'b', 'train'), (4, 2, 'c', 'train');
            INSERT INTO pruning_scores VALUES (4, 0, 0.25), (4, 1, 0.75), (4, 2, 0.5);
            """)
    }

    @Test func version2FileMigratesScoresToTheLegacyName() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("v2.sqlite")
        try writeVersion2(path)
        let store = try ResultStore(path: path, mode: .existing)
        #expect(Schema.latestVersion >= 3)
        #expect(try store.userVersion() == Schema.latestVersion)
        #expect(try store.scoreNames(run: 4) == ["score"])
        #expect(try store.scoreSteps(run: 4, name: "score") == [0])
        #expect(
            try store.scores(run: 4) == [
                SampleScore(sampleID: 1, score: 0.75, key: "b"), SampleScore(sampleID: 2, score: 0.5, key: "c"),
                SampleScore(sampleID: 0, score: 0.25, key: "a"),
            ])
        // The migrated file takes named scores, and the old rows stay.
        let recorder = try makeRun(store)
        try recorder.recordScores([1, 2] as [Double], name: "el2n", step: 3)
        #expect(try store.scores(run: 4, name: "score").count == 3)
        #expect(try store.integrityCheck() == "ok")
        let again = try ResultStore(path: path, mode: .existing)
        #expect(try again.scores(run: recorder.runID, name: "el2n").map(\.sampleID) == [1, 0])
    }

    @Test func namesStepsAndLatestValues() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("s.sqlite"))
        let recorder = try makeRun(store)
        try recorder.recordScores([0.1, 0.9, 0.5] as [Double], name: "el2n", step: 1)
        try recorder.recordScores([0.8, 0.2, 0.4] as [Float], name: "el2n", step: 5)
        try recorder.recordScores([3, 0, 1] as [Double], name: "forgetting", sampleIDs: [10, 11, 12])
        let committed = store.committedTransactions
        try recorder.recordScores([Double](repeating: 1, count: 500), name: "random")
        #expect(store.committedTransactions == committed + 1)  // one transaction for the whole call

        #expect(try store.scoreNames(run: recorder.runID) == ["el2n", "forgetting", "random"])
        #expect(try store.scoreSteps(run: recorder.runID, name: "el2n") == [1, 5])
        // Latest step by default, highest first, ties by sample id.
        let latest = try store.scores(run: recorder.runID, name: "el2n")
        #expect(latest.map(\.sampleID) == [0, 2, 1])
        #expect(latest.map(\.step) == [5, 5, 5])
        #expect(abs(latest[0].score - 0.8) < 1e-6)
        #expect(try store.scores(run: recorder.runID, name: "el2n", step: 1, limit: 1).map(\.sampleID) == [1])
        #expect(try store.scores(run: recorder.runID, name: "forgetting", ascending: true).map(\.sampleID) == [11, 12, 10])
        #expect(
            throws: StoreError.noResults(
                path: store.path, runID: recorder.runID,
                what: "pruning scores 'el2n' at step 2 (its last step is 5)")
        ) {
            try store.scores(run: recorder.runID, name: "el2n", step: 2)
        }
        // Several names and none given: an error naming them.
        let several = "run \(recorder.runID) has several pruning scores (el2n, forgetting, random); name one"
        #expect(throws: StoreError.invalidArgument(several)) {
            try store.scores(run: recorder.runID)
        }
        let unknown = StoreError.unknownScoreName(
            path: store.path, runID: recorder.runID, name: "grand",
            available: ["el2n", "forgetting", "random"])
        #expect(throws: unknown) { try store.scores(run: recorder.runID, name: "grand") }
        #expect(unknown.localizedDescription.hasSuffix("has no pruning score named 'grand' (its scores are el2n, forgetting, random)"))

        let histogram = try store.scoreHistogram(run: recorder.runID, name: "forgetting", bins: 4)
        #expect(histogram.count == 3 && histogram.minimum == 0 && histogram.maximum == 3 && histogram.step == 0)
        #expect(histogram.bins.map(\.count) == [1, 1, 0, 1])  // width ¾: 0, 1 and 3 (the maximum goes in the last bin)
        let summaries = try store.scoreSummaries(run: recorder.runID)
        #expect(summaries.map(\.name) == ["el2n", "forgetting", "random"])
        #expect(summaries[0].stepCount == 2 && summaries[0].latestStep == 5 && summaries[0].sampleCount == 3)
        #expect(summaries[2].sampleCount == 500)
    }

    @Test func badNamesAndValuesRecordNothing() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("s.sqlite"))
        let recorder = try makeRun(store)
        for name in ["", "weight", "EL2N", "has space", String(repeating: "a", count: 65)] {
            #expect(throws: StoreError.self) { try recorder.recordScores([1] as [Double], name: name) }
        }
        #expect(throws: StoreError.self) { try recorder.recordScores([1, .nan] as [Double], name: "aum", step: 2) }
        #expect(try store.count(table: "pruning_scores") == 0)
    }

    @Test func manifestRanksByAnyScoreNameOrWeight() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("s.sqlite"))
        let recorder = try makeRun(store)
        try recorder.recordScores([0.5, 0.9, 0.1, 0.7] as [Double], name: "el2n")
        try recorder.recordScores([4, 3, 2, 1] as [Double], name: "margin", step: 2)
        try recorder.recordWeights([1, 2, 3, 4] as [Double], step: 0)
        let run = recorder.runID
        #expect(
            try store.manifest(ManifestRequest(runID: run, selection: .prune(0.25), ranking: .score(named: "el2n")))
                .map(\.sampleID) == [0, 1, 3])
        #expect(
            try store.manifest(ManifestRequest(runID: run, selection: .keep(0.5), ranking: .score(named: "margin")))
                .map(\.sampleID) == [0, 1])
        #expect(try store.manifest(ManifestRequest(runID: run, selection: .keep(0.5), ranking: .weight)).map(\.sampleID) == [2, 3])
        #expect(throws: StoreError.unknownScoreName(path: store.path, runID: run, name: "aum", available: ["el2n", "margin"])) {
            try store.manifest(ManifestRequest(runID: run, selection: .keep(0.5), ranking: .score(named: "aum")))
        }
        let out = dir.path("m.jsonl")
        let entries = try store.manifest(ManifestRequest(runID: run, selection: .keep(0.25), ranking: .score(named: "el2n")))
        try ManifestWriter.write(entries, ranking: .score(named: "el2n"), format: .jsonl, to: out)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "{\"sample_id\": 1, \"el2n\": 0.9}\n")
    }
}
