import Foundation
import Testing
@testable import ResultStore

/// Schema v2: the `samples` table maps integer sample ids to the dataset's own ids (keys).
@Suite struct SampleKeyTests {
    /// A database exactly as schema v1 left it: the v1 migration only, `user_version` 1, one run with results.
    func writeVersion1(_ path: String) throws {
        let connection = try Connection(path: path, mode: .readWriteCreate, busyTimeoutMilliseconds: 1_000)
        try connection.execute(Schema.migrations[0])
        try connection.execute(
            """
            PRAGMA user_version = 1;
            INSERT INTO runs (id, application, recipe, seed, started_at, status)
                VALUES (5, 'old', 'application: old', 3, '2026-11-01T00:00:00.000Z', 'completed');
            INSERT INTO sample_weights VALUES (5, 1, 0, 0.5), (5, 1, 1, 2.0), (5, 1, 2, 1.0);
            INSERT INTO weight_steps VALUES (5, 1, 3);
            INSERT INTO pruning_scores VALUES (5, 0, 0.25), (5, 1, 0.75);
            INSERT INTO corrected_labels VALUES (5, 1, 0, 1, '[0.2,0.8]');
            """)
    }

    @Test func version1FileMigratesInPlaceAndKeepsData() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("v1.sqlite")
        try writeVersion1(path)
        let store = try ResultStore(path: path, mode: .existing)
        #expect(try store.userVersion() == Schema.latestVersion)
        // v1 results are all there, with no keys (the run registered none).
        #expect(try store.run(5).application == "old")
        #expect(
            try store.weights(run: 5) == [
                SampleWeight(step: 1, sampleID: 0, weight: 0.5), SampleWeight(step: 1, sampleID: 1, weight: 2.0),
                SampleWeight(step: 1, sampleID: 2, weight: 1.0),
            ])
        #expect(try store.scores(run: 5).map(\.sampleID) == [1, 0])
        #expect(try store.labels(run: 5) == [CorrectedLabel(sampleID: 1, originalLabel: 0, correctedLabel: 1, distribution: [0.2, 0.8])])
        #expect(try store.weights(run: 5, sample: "1").map(\.weight) == [2.0])  // integer ids still work
        #expect(try store.count(table: "samples") == 0)
        // The new table works in the migrated file, and the unique index on (run_id, key) exists.
        let recorder = try makeRun(store)
        #expect(try recorder.registerSamples(keys: ["a", "b"]) == 0..<2)
        #expect(throws: StoreError.duplicateSampleKey(path: path, runID: recorder.runID, key: "a")) {
            try recorder.registerSamples(keys: ["a"])
        }
        // Reopening neither re-migrates nor loses anything.
        let again = try ResultStore(path: path, mode: .existing)
        #expect(try again.userVersion() == Schema.latestVersion)
        #expect(try again.sampleKeys(run: recorder.runID) == ["a", "b"])
        #expect(try again.integrityCheck() == "ok")
    }

    @Test func keysRoundTripThroughRecordQueryAndManifest() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        let train = ["rt-0042", "rt-0007", "train.jsonl#2", "a,b \"quoted\"", "rt-0100"]
        #expect(try recorder.registerSamples(keys: train, split: "train") == 0..<5)
        #expect(try recorder.registerSamples(keys: ["v-1", "v-2"], split: "valid") == 5..<7)  // ids continue

        // Keys in any order map to their registered ids.
        try recorder.recordWeights(
            [0.1, 0.9, 0.5, 0.3, 0.7] as [Float], step: 1,
            keys: ["rt-0100", "rt-0007", "train.jsonl#2", "a,b \"quoted\"", "rt-0042"])
        try recorder.recordScores([4, 3, 2, 1, 0] as [Double], keys: train)
        try recorder.recordLabels([CorrectedLabel(sampleID: -1, originalLabel: 0, correctedLabel: 1)], keys: ["v-2"])
        #expect(throws: StoreError.unknownSampleKey(path: store.path, runID: recorder.runID, key: "nope")) {
            try recorder.recordScores([1] as [Double], keys: ["nope"])
        }
        try recorder.complete(metrics: [:])

        let top = try store.topWeights(run: recorder.runID, count: 2)
        #expect(
            top == [
                SampleWeight(step: 1, sampleID: 1, weight: Double(Float(0.9)), key: "rt-0007"),
                SampleWeight(step: 1, sampleID: 0, weight: Double(Float(0.7)), key: "rt-0042"),
            ])
        #expect(try store.weights(run: recorder.runID, sample: "rt-0100").map(\.weight) == [Double(Float(0.1))])
        #expect(try store.weights(run: recorder.runID, sample: "rt-0100").first?.sampleID == 4)
        #expect(throws: StoreError.unknownSampleKey(path: store.path, runID: recorder.runID, key: "rt-9999")) {
            try store.weights(run: recorder.runID, sample: "rt-9999")
        }
        #expect(try store.scores(run: recorder.runID).map(\.key) == train)
        #expect(try store.labels(run: recorder.runID).map(\.key) == ["v-2"])
        #expect(try store.labels(run: recorder.runID).first?.sampleID == 6)
        #expect(try store.sampleSplits(run: recorder.runID) == ["train", "valid"])

        // Top 60% by weight: 0.9 (id 1), 0.7 (id 0), 0.5 (id 2), listed in id order.
        let kept = try store.manifest(ManifestRequest(runID: recorder.runID, selection: .keep(0.6), ranking: .weight))
        #expect(kept.map(\.key) == ["rt-0042", "rt-0007", "train.jsonl#2"])
        let jsonl = dir.path("m.jsonl"), csv = dir.path("m.csv")
        try ManifestWriter.write(kept, ranking: .weight, format: .jsonl, to: jsonl)
        #expect(
            try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n").first
                == "{\"sample_id\": 0, \"sample\": \"rt-0042\", \"weight\": 0.699999988079071}")
        let byScore = try store.manifest(ManifestRequest(runID: recorder.runID, selection: .keep(1)))
        try ManifestWriter.write(byScore, ranking: .score, format: .csv, to: csv)
        #expect(
            try String(contentsOfFile: csv, encoding: .utf8)
                == "sample_id,sample,score\n0,rt-0042,4.0\n1,rt-0007,3.0\n2,train.jsonl#2,2.0\n3,\"a,b "
                    + "\"\"quoted\"\"\",1.0\n4,rt-0100,0.0\n"
        )

        // Query output carries a `sample` column with the key.
        #expect(
            ResultTable.weights(top).render(.csv)
                == "step,sample_id,sample,weight\n1,1,rt-0007,0.8999999761581421\n1,0,rt-0042,0.699999988079071\n")
        #expect(
            ResultTable.scores(try store.scores(run: recorder.runID, limit: 1)).render(.json)
                == "[{\"sample_id\": 0, \"sample\": \"rt-0042\", \"score\": 4}]\n")
    }

    @Test func duplicateKeysAreAnErrorNamingTheKey() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        #expect(throws: StoreError.duplicateSampleKey(path: store.path, runID: recorder.runID, key: "train.json#7")) {
            try recorder.registerSamples(keys: ["a", "train.json#7", "b", "train.json#7", "c"])
        }
        #expect(try store.count(table: "samples") == 0)  // one transaction: nothing from the failed call
        #expect(try recorder.registerSamples(keys: ["x"]) == 0..<1)
        do {
            try recorder.registerSamples(keys: ["y", "x"], split: "valid")
            Issue.record("registering 'x' twice should throw")
        } catch {
            #expect(error.localizedDescription.contains("sample key 'x' is registered twice"))
        }
        #expect(try store.sampleKeys(run: recorder.runID) == ["x"])
        // Keys are per run: another run may use the same key.
        let other = try makeRun(store)
        #expect(try other.registerSamples(keys: ["x"]) == 0..<1)
    }

    /// Measures bulk registration (one transaction, one prepared statement); prints rows/s.
    @Test func registerSamplesInBulk() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        let keys = (0..<200_000).map { "train.json#\($0)" }
        let clock = ContinuousClock()
        var start = clock.now
        let ids = try recorder.registerSamples(keys: keys, split: "train")
        let elapsed = clock.now - start
        #expect(ids == 0..<200_000)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("registerSamples: \(keys.count) keys in \(String(format: "%.3f", seconds)) s (\(Int(Double(keys.count) / seconds)) rows/s)")
        let weights = (0..<keys.count).map { Float($0 % 97) }
        start = clock.now
        try recorder.recordWeights(weights, step: 1, keys: keys.reversed())
        let weightTime = clock.now - start
        print("recordWeights(keys:): \(keys.count) rows in \(weightTime)")
        #expect(try store.count(table: "samples", run: recorder.runID) == 200_000)
        #expect(try store.weights(run: recorder.runID, sample: "train.json#199999").first?.weight == 0)  // reversed: gets weights[0]
    }
}
