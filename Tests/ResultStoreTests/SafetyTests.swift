import Foundation
import Testing
@testable import ResultStore

/// Bounds on query arguments, the database folder rule and checkpoint file bookkeeping.
@Suite struct SafetyTests {
    func storeWithWeights(_ dir: TemporaryDirectory) throws -> (ResultStore, RunRecorder) {
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        try recorder.recordWeights([0.5, 1.5, 1.0] as [Float], step: 1)
        try recorder.recordWeights([0.4, 1.6, 1.0] as [Float], step: 2)
        return (store, recorder)
    }

    @Test func histogramBinsAreBounded() throws {
        let dir = try TemporaryDirectory()
        let (store, recorder) = try storeWithWeights(dir)
        #expect(try store.weightHistogram(run: recorder.runID, bins: ResultStore.maximumHistogramBins).bins.count == 10_000)
        for bins in [0, ResultStore.maximumHistogramBins + 1, 100_000_000] {
            #expect(throws: StoreError.invalidArgument("histogram bins must be 1…10000, got \(bins)")) {
                try store.weightHistogram(run: recorder.runID, bins: bins)
            }
        }
        #expect(throws: StoreError.self) { try store.topWeights(run: recorder.runID, count: 0) }
    }

    /// A step the run did not record is an error naming the last step, not an empty answer.
    @Test func unrecordedStepNamesTheLastStep() throws {
        let dir = try TemporaryDirectory()
        let (store, recorder) = try storeWithWeights(dir)
        let id = recorder.runID
        let expected = StoreError.noResults(path: store.path, runID: id, what: "sample weights at step 9 (its last step with weights is 2)")
        #expect(throws: expected) { try store.topWeights(run: id, count: 2, step: 9) }
        #expect(throws: expected) { try store.bottomWeights(run: id, count: 2, step: 9) }
        #expect(throws: expected) { try store.weights(run: id, step: 9) }
        #expect(throws: expected) { try store.weightHistogram(run: id, step: 9) }
        #expect(expected.localizedDescription.contains("its last step with weights is 2"))
        #expect(try store.topWeights(run: id, count: 1, step: 1).first?.weight == 1.5)
        #expect(try store.requireWeightStep(run: id, nil) == 2)
    }

    @Test func missingDatabaseFolderIsNamed() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("missing/sub/w.sqlite")
        let missing = StoreError.missingFolder(path: path, folder: dir.path("missing/sub"))
        #expect(throws: missing) { try ResultStore.requireFolder(of: path) }
        #expect(missing.localizedDescription.contains("folder \(dir.path("missing/sub")) does not exist"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("missing")))
        try ResultStore.requireFolder(of: dir.path("w.sqlite"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.path("plain")))
        #expect(throws: StoreError.self) { try ResultStore.requireFolder(of: dir.path("plain/w.sqlite")) }
        #expect(ResultStore.folder(of: "q") == "." && ResultStore.folder(of: "/q") == "/" && ResultStore.folder(of: "a/q") == "a")
        #expect(ResultStore.databaseFiles(of: "w.sqlite") == ["w.sqlite", "w.sqlite-wal", "w.sqlite-shm", "w.sqlite-journal"])
    }

    /// Recorded files with their sizes, rows whose file is gone, bytes in the database, orphans found and
    /// removed (only once the run has ended), recorded files kept.
    @Test func checkpointUsageAndOrphans() throws {
        let dir = try TemporaryDirectory()
        let (store, recorder) = try storeWithWeights(dir)
        let folder = store.checkpointFolder(run: recorder.runID)
        #expect(folder == URL(fileURLWithPath: dir.path("checkpoints/w-run-\(recorder.runID)")).standardizedFileURL.path)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let gone = folder + "/step-1.safetensors", kept = folder + "/step-2.safetensors", orphan = folder + "/step-3.safetensors"
        try recorder.recordCheckpoint(step: 1, path: gone)  // its file was deleted when step 2 was saved
        try Data(count: 1_000).write(to: URL(fileURLWithPath: kept))
        try recorder.recordCheckpoint(step: 2, path: kept)
        try Data(count: 300).write(to: URL(fileURLWithPath: orphan))  // written, never recorded
        try recorder.recordCheckpoint(step: 2, data: [1, 2, 3, 4])

        let usage = try store.checkpointUsage(run: recorder.runID)
        #expect(usage.files.map(\.byteCount) == [1_000, 300])
        #expect(usage.files.map(\.step) == [2, nil])
        #expect(usage.orphans.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["step-3.safetensors"])
        #expect(usage.missingFileCount == 1 && usage.storedBytes == 4 && usage.totalBytes == 1_304)
        #expect(ResultTable.checkpointCell(usage).plain == "1.3 kB in 2 files and the database (1 orphan)")

        // A running run may be writing a checkpoint it has not recorded yet: nothing is deleted.
        #expect(throws: StoreError.self) { try store.removeOrphanCheckpoints(run: recorder.runID) }
        #expect(FileManager.default.fileExists(atPath: orphan))
        try recorder.complete(metrics: [:])
        let removed = try store.removeOrphanCheckpoints(run: recorder.runID)
        #expect(removed.count == 1 && !FileManager.default.fileExists(atPath: orphan))
        #expect(FileManager.default.fileExists(atPath: kept))
        #expect(try store.checkpointUsage(run: recorder.runID).orphans.isEmpty)
        #expect(ResultTable.byteText(999) == "999 B" && ResultTable.byteText(68_115_317) == "68.1 MB")
    }
}
