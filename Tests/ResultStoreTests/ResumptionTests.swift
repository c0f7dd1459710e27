import Foundation
import Testing
@testable import ResultStore

/// Reopening a failed run: what is refused, what is kept and what is dropped.
@Suite struct ResumptionTests {
    @Test func reopenKeepsResultsUpToTheCheckpointAndDropsLaterOnes() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("r.sqlite"))
        let recorder = try makeRun(store)
        #expect(try recorder.registerSamples(keys: ["a", "b", "c"]) == 0..<3)
        for step in 1...3 {
            try recorder.recordWeights([Float](repeating: Float(step), count: 3), step: step)
            try recorder.recordMetric("accuracy", Double(step), step: step)
        }
        try recorder.recordCheckpoint(step: 1, path: "/tmp/one")
        try recorder.recordCheckpoint(step: 2, path: "/tmp/two")
        try recorder.fail("killed")
        #expect(try store.latestCheckpoint(run: recorder.runID)?.step == 2)

        let reopened = try store.reopenRun(recorder.runID, after: 1)
        #expect(try store.run(recorder.runID).status == .running)
        #expect(try store.run(recorder.runID).error == nil)
        #expect(try store.weightSteps(run: recorder.runID) == [1])
        #expect(try store.metrics(run: recorder.runID, name: "accuracy").map(\.step) == [1])
        #expect(try store.checkpoints(run: recorder.runID).map(\.step) == [1])
        // The same samples registered again keep their ids; other samples are refused.
        #expect(try reopened.registerSamples(keys: ["a", "b", "c"]) == 0..<3)
        #expect(throws: StoreError.self) { try reopened.registerSamples(keys: ["a", "x", "c"]) }
        #expect(try store.sampleKeys(run: recorder.runID) == ["a", "b", "c"])
        try reopened.recordWeights([Float](repeating: 9, count: 3), step: 2)
        try reopened.complete(metrics: ["accuracy": 2])
        #expect(try store.weightSteps(run: recorder.runID) == [1, 2])
    }

    @Test func completedAndRunningRunsAreRefused() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("r.sqlite"))
        let done = try makeRun(store)
        try done.complete(metrics: [:])
        #expect(throws: RunNotResumable(runID: done.runID, reason: "it completed")) { try store.reopenRun(done.runID, after: 0) }
        let running = try makeRun(store)
        try running.recordMetric("loss", 1, step: 5)
        #expect(throws: RunNotResumable.self) { try store.reopenRun(running.runID, after: 0) }
        #expect(try store.metrics(run: running.runID, name: "loss").count == 1, "a refused resume changes nothing")
        _ = try store.reopenRun(running.runID, after: 0, force: true)
        #expect(try store.metrics(run: running.runID, name: "loss").isEmpty)
        #expect(throws: StoreError.self) { try store.reopenRun(999, after: 0) }
    }
}
