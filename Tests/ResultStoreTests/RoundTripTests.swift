import Foundation
import Testing
@testable import ResultStore

@Suite struct RoundTripTests {
    @Test func schemaIsVersionedAndWAL() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("nested/folder/w.sqlite"))
        #expect(try store.userVersion() == Schema.latestVersion)
        let mode = try store.connection.prepare("PRAGMA journal_mode")
        _ = try mode.step()
        #expect(mode.text(0) == "wal")
        mode.reset()
        // Reopening does not re-run migrations (they would fail on existing tables).
        let again = try ResultStore(path: dir.path("nested/folder/w.sqlite"))
        #expect(try again.userVersion() == Schema.latestVersion)
    }

    @Test func runLifecycleAndQueries() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store, seed: 42)
        #expect(try store.run(recorder.runID).status == .running)

        try recorder.recordWeights([Float](repeating: 1, count: 5), step: 0)
        try recorder.recordWeights([0.5, 2.0, 0.1, 1.5, 0.1] as [Double], step: 1)
        try recorder.recordMetrics(["loss": 0.7, "accuracy": 0.5], step: 0)
        try recorder.recordMetric("loss", 0.3, step: 1)
        try recorder.recordLabels([
            CorrectedLabel(sampleID: 0, originalLabel: 1, correctedLabel: 1, distribution: [0.1, 0.9]),
            CorrectedLabel(sampleID: 1, originalLabel: 0, correctedLabel: 1, distribution: [0.25, 0.75]),
            CorrectedLabel(sampleID: 2, originalLabel: nil, correctedLabel: 0),
        ])
        try recorder.recordScores([0.3, 0.9, 0.1, 0.5] as [Double], sampleIDs: [10, 11, 12, 13])
        let checkpoint = try recorder.recordCheckpoint(step: 1, data: [1, 2, 3])
        try recorder.recordCheckpoint(step: 2, path: "Outputs/ckpt-2.bin")
        try recorder.complete(metrics: ["accuracy": 0.91, "nan": .nan], notes: ["fine"])

        let run = try store.run(recorder.runID)
        #expect(run.status == .completed)
        #expect(run.seed == 42)
        #expect(run.metrics["accuracy"] == 0.91)
        #expect(run.metrics["nan"]?.isNaN == true)
        #expect(run.notes == ["fine"])
        #expect(run.endedAt != nil)
        #expect(try store.runs().map(\.id) == [recorder.runID])

        #expect(try store.weightSteps(run: recorder.runID) == [0, 1])
        #expect(try store.topWeights(run: recorder.runID, count: 2).map(\.sampleID) == [1, 3])
        // Ties at the bottom break by sample id.
        #expect(try store.bottomWeights(run: recorder.runID, count: 2).map(\.sampleID) == [2, 4])
        #expect(try store.topWeights(run: recorder.runID, count: 1, step: 0).first?.weight == 1)
        #expect(try store.weights(run: recorder.runID, sampleID: 1).map(\.weight) == [1, 2])
        let histogram = try store.weightHistogram(run: recorder.runID, bins: 4)
        #expect(histogram.count == 5)
        // Width 0.475: [0.1, 0.575) holds 0.1, 0.1, 0.5; 1.5 and 2.0 fall in the top two bins.
        #expect(histogram.bins.map(\.count) == [3, 0, 1, 1])
        #expect(histogram.minimum == 0.1 && histogram.maximum == 2.0)

        #expect(try store.labels(run: recorder.runID).count == 3)
        let changed = try store.labels(run: recorder.runID, changedOnly: true)
        #expect(changed.map(\.sampleID) == [1, 2])
        #expect(changed[0].distribution == [0.25, 0.75])
        #expect(try store.scores(run: recorder.runID).map(\.sampleID) == [11, 13, 10, 12])
        #expect(try store.metrics(run: recorder.runID, name: "loss").map(\.value) == [0.7, 0.3])
        #expect(try store.checkpoints(run: recorder.runID).count == 2)
        #expect(try store.checkpointData(id: checkpoint) == [1, 2, 3])
    }

    @Test func recordMarksFailedOnError() throws {
        struct Boom: Error, LocalizedError { var errorDescription: String? { "boom at step 3" } }
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        #expect(throws: Boom.self) {
            try recorder.record { recorder in
                try recorder.recordMetric("loss", 1, step: 0)
                throw Boom()
            }
        }
        let run = try store.run(recorder.runID)
        #expect(run.status == .failed)
        #expect(run.error == "boom at step 3")
        #expect(run.endedAt != nil)
    }

    @Test func manifestKeepsTopFractionDeterministically() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        try recorder.recordScores([0.5, 0.9, 0.1, 0.5, 0.7] as [Double])
        try recorder.recordWeights([5, 4, 3, 2, 1] as [Double], step: 3)
        try recorder.complete(metrics: [:])
        let keep = try store.manifest(ManifestRequest(runID: recorder.runID, selection: .keep(0.6)))
        // 3 of 5 kept: 0.9 (1), 0.7 (4), then the tie 0.5 goes to the lower id (0).
        #expect(keep.map(\.sampleID) == [0, 1, 4])
        let prune = try store.manifest(ManifestRequest(runID: recorder.runID, selection: .prune(0.2), ranking: .weight))
        #expect(prune.map(\.sampleID) == [0, 1, 2, 3])
        #expect(throws: StoreError.self) {
            try store.manifest(ManifestRequest(runID: recorder.runID, selection: .keep(1.5)))
        }

        let out = dir.path("manifest.jsonl")
        try ManifestWriter.write(keep, ranking: .score, format: .jsonl, to: out)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "{\"sample_id\": 0, \"score\": 0.5}")
        #expect(lines.count == 3)
        try ManifestWriter.write(prune, ranking: .weight, format: .csv, to: out)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("sample_id,weight\n0,5.0\n"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func tableRendering() {
        let table = ResultTable(columns: ["id", "name"], rows: [[.int(1), .text("a,b")], [.int(22), .null]])
        #expect(table.render(.csv) == "id,name\n1,\"a,b\"\n22,\n")
        #expect(table.render(.json) == "[{\"id\": 1, \"name\": \"a,b\"},\n {\"id\": 22, \"name\": null}]\n")
        #expect(table.render(.table) == "id  name\n--  ----\n 1  a,b\n22\n")
    }
}

@Suite struct MarkFailedTests {
    @Test func markFailedFromAnotherConnection() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("w.sqlite")
        let store = try ResultStore(path: path)
        let recorder = try makeRun(store)
        let other = try ResultStore(path: path, mode: .existing)
        #expect(try other.markFailed(run: recorder.runID, message: "interrupted by SIGINT"))
        #expect(try store.run(recorder.runID).status == .failed)
        #expect(try store.run(recorder.runID).error == "interrupted by SIGINT")
        // A finished run is left alone.
        #expect(try !other.markFailed(run: recorder.runID, message: "again"))
        #expect(throws: StoreError.runNotFound(path: path, runID: 77)) { try other.markFailed(run: 77, message: "x") }
    }
}
