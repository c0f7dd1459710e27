import Foundation
import Testing
@testable import ResultStore

@Suite struct BulkInsertTests {
    static let million = 1_000_000

    /// A constraint failure at the last of 1 M rows rolls back the whole insert.
    @Test func failureMidwayLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        var ids = Array(0..<Self.million)
        ids[Self.million - 1] = 0  // duplicate primary key on the final row
        let weights = [Float](repeating: 0.5, count: Self.million)
        #expect(throws: StoreError.self) { try recorder.recordWeights(weights, step: 0, sampleIDs: ids) }
        #expect(try store.count(table: "sample_weights") == 0)
        // The connection is usable afterwards.
        try recorder.recordWeights([1, 2] as [Float], step: 0)
        #expect(try store.count(table: "sample_weights") == 2)
    }

    /// An error thrown by the caller after 1 M rows were written inside a batch leaves nothing.
    @Test func throwInsideBatchLeavesNothing() throws {
        struct Stop: Error {}
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        #expect(throws: Stop.self) {
            try recorder.batch {
                try recorder.recordWeights([Float](repeating: 1, count: Self.million / 2), step: 0)
                try recorder.recordWeights([Float](repeating: 1, count: Self.million / 2), step: 1)
                try recorder.recordScores([Double](repeating: 1, count: 10))
                throw Stop()
            }
        }
        #expect(try store.count(table: "sample_weights") == 0)
        #expect(try store.count(table: "pruning_scores") == 0)
        #expect(try store.integrityCheck() == "ok")
    }

    /// A process killed in the middle of a 1 M-row insert leaves no rows and a healthy file.
    /// The child is this test binary re-run with WINNOW_KILL_CHILD set (see `killedChild`).
    @Test func killMidwayLeavesNothing() throws {
        guard let executable = Bundle.main.executableURL, ProcessInfo.processInfo.environment["WINNOW_KILL_CHILD"] == nil else { return }
        let dir = try TemporaryDirectory()
        let path = dir.path("w.sqlite")
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--testing-library", "swift-testing", "--filter", "killedChild"]
        var environment = ProcessInfo.processInfo.environment
        environment["WINNOW_KILL_CHILD"] = path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        print(
            "kill test: child \(executable.lastPathComponent) ended by "
                + "\(process.terminationReason == .uncaughtSignal ? "signal" : "exit") \(process.terminationStatus)"
        )
        guard process.terminationReason == .uncaughtSignal else {
            // The runner could not be re-entered this way (another test harness): nothing to check.
            return
        }
        let store = try ResultStore(path: path)
        #expect(try store.count(table: "runs") == 1)
        #expect(try store.count(table: "sample_weights") == 0)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func killedChild() throws {
        guard let path = ProcessInfo.processInfo.environment["WINNOW_KILL_CHILD"] else { return }
        let store = try ResultStore(path: path)
        let recorder = try makeRun(store)
        try store.transaction {
            try recorder.recordWeights([Float](repeating: 1, count: Self.million), step: 0)
            kill(getpid(), SIGKILL)
        }
    }

    /// A million weights go in as one transaction (a per-row transaction would be ~100× slower); prints the
    /// throughput, whose figures live in docs/benchmarks-store.md, without asserting a time.
    @Test func bulkInsertThroughput() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        let weights = (0..<Self.million).map { Float($0 % 1000) / 1000 }
        let clock = ContinuousClock()
        let transactions = store.committedTransactions
        let elapsed = try clock.measure { try recorder.recordWeights(weights, step: 0) }
        #expect(store.committedTransactions == transactions + 1)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let rate = Double(Self.million) / seconds
        print("bulk insert: \(Self.million) weight rows in \(String(format: "%.3f", seconds)) s = \(Int(rate)) rows/s")
        #expect(try store.count(table: "sample_weights") == Self.million)
        var start = clock.now
        let top = try store.topWeights(run: recorder.runID, count: 10)
        print("query top 10 over 1M rows: \(clock.now - start)")
        start = clock.now
        let histogram = try store.weightHistogram(run: recorder.runID)
        print("query histogram (20 bins) over 1M rows: \(clock.now - start)")
        start = clock.now
        let trajectory = try store.weights(run: recorder.runID, sampleID: 123_456)
        print("query one sample's weights among 1M rows: \(clock.now - start)")
        #expect(top.count == 10 && histogram.count == Self.million && trajectory.count == 1)
    }
}
