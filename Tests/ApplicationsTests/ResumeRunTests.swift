import Foundation
import Testing
@testable import ResultStore
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// `winnow run --resume`: a noisy-label run that fails in epoch 2 resumes from its epoch-1 checkpoint and
/// ends exactly where an uninterrupted run ends.
@Suite struct ResumeRunTests {
    func request(_ directory: URL, db: String, overrides: [String] = []) throws -> RunRequest {
        let recipe = directory.appendingPathComponent("recipe.yaml").path
        try "application: noisy-labels\nseed: 5\n".write(toFile: recipe, atomically: true, encoding: .utf8)
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        if !FileManager.default.fileExists(atPath: archive) { try NoisyLabelApplicationTests.writeArchive(to: archive) }
        let base = NoisyLabelApplicationTests.smallRun(archive: archive) + ["meta.method=sama", "meta.correct=true"]
        return RunRequest(recipePath: recipe, overrides: base + overrides, databasePath: db)
    }

    @Test func resumedRunEqualsAnUninterruptedOne() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let straight = try ApplicationRunner.run(
            try request(directory, db: directory.appendingPathComponent("a.sqlite").path), registry: .builtIn)

        let db = directory.appendingPathComponent("b.sqlite").path
        var failing = try request(directory, db: db)
        failing.injectedFault = (rank: 0, step: 2)
        #expect(throws: ApplicationFailure.self) { try ApplicationRunner.run(failing, registry: .builtIn) }
        let store = try ResultStore(path: db, mode: .existing)
        #expect(try store.run(1).status == .failed)
        #expect(try store.latestCheckpoint(run: 1)?.step == 1)

        var resume = RunRequest(recipePath: "", databasePath: db)
        resume.resumeRunID = 1
        let resumed = try ApplicationRunner.run(resume, registry: .builtIn)
        #expect(resumed.runID == 1)
        for key in ["test_accuracy", "test_loss", "weight_auc", "weight_mean_wrong", "gate", "meta_steps", "labels_fixed"] {
            #expect(resumed.summary.metrics[key] == straight.summary.metrics[key], "\(key) differs after resuming")
        }
        #expect(try store.run(1).status == .completed)
        #expect(try store.weightSteps(run: 1) == [1, 2, 3])
        #expect(try store.metrics(run: 1, name: "test_accuracy").map(\.step) == [1, 2, 3])
        #expect(
            try store.weights(run: 1, step: 3).map(\.weight)
                == (try ResultStore(path: directory.appendingPathComponent("a.sqlite").path, mode: .existing)).weights(run: 1, step: 3).map(
                    \.weight))

        // A completed run, and a resume with overrides, are refused without touching the store.
        #expect(throws: RunNotResumable.self) { try ApplicationRunner.run(resume, registry: .builtIn) }
        var withOverrides = resume
        withOverrides.overrides = ["training.epochs=5"]
        #expect(throws: RunNotResumable.self) { try ApplicationRunner.run(withOverrides, registry: .builtIn) }
    }

    /// Resumed in its last epoch, a run continues the label-quality mean from the recorded one of epoch 2 and records
    /// the same scores, to the last bit, as an uninterrupted run.
    @Test func labelQualityAfterAResumeInTheLastEpochIsExact() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let straightDB = directory.appendingPathComponent("a.sqlite").path
        _ = try ApplicationRunner.run(try request(directory, db: straightDB), registry: .builtIn)
        let db = directory.appendingPathComponent("b.sqlite").path
        var failing = try request(directory, db: db)
        failing.injectedFault = (rank: 0, step: 3)
        #expect(throws: ApplicationFailure.self) { try ApplicationRunner.run(failing, registry: .builtIn) }
        #expect(try ResultStore(path: db, mode: .existing).latestCheckpoint(run: 1)?.step == 2)
        var resume = RunRequest(recipePath: "", databasePath: db)
        resume.resumeRunID = 1
        _ = try ApplicationRunner.run(resume, registry: .builtIn)
        func scores(_ path: String) throws -> [Double] {
            try ResultStore(path: path, mode: .existing).scores(run: 1, name: LabelQualityTracker.scoreName, step: 3).map(\.score)
        }
        let expected = try scores(straightDB)
        #expect(expected.count == 240)
        #expect(try scores(db) == expected)
    }

    /// Fails a run at epoch 2 and returns its database and checkpoint path.
    func failedRun(_ directory: URL, name: String, seed: Int = 5) throws -> (db: String, checkpoint: String) {
        let db = directory.appendingPathComponent("\(name).sqlite").path
        var failing = try request(directory, db: db, overrides: ["seed=\(seed)"])
        failing.injectedFault = (rank: 0, step: 2)
        #expect(throws: ApplicationFailure.self) { try ApplicationRunner.run(failing, registry: .builtIn) }
        let checkpoint = try #require(try ResultStore(path: db, mode: .existing).latestCheckpoint(run: 1)?.path)
        return (db, checkpoint)
    }

    func resume(_ db: String) throws -> RunOutcome {
        var resume = RunRequest(recipePath: "", databasePath: db)
        resume.resumeRunID = 1
        return try ApplicationRunner.run(resume, registry: .builtIn)
    }

    /// The resumed run really continues from the checkpoint: given another run's checkpoint, it ends elsewhere.
    @Test func resumeContinuesFromTheCheckpointFile() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let straight = try ApplicationRunner.run(
            try request(directory, db: directory.appendingPathComponent("a.sqlite").path), registry: .builtIn)
        let mine = try failedRun(directory, name: "mine"), other = try failedRun(directory, name: "other", seed: 6)
        try FileManager.default.removeItem(atPath: mine.checkpoint)
        try FileManager.default.copyItem(atPath: other.checkpoint, toPath: mine.checkpoint)
        let resumed = try resume(mine.db)
        #expect(resumed.summary.metrics["test_loss"] != straight.summary.metrics["test_loss"])
    }

    /// A missing checkpoint is refused before anything changes; a truncated one fails the run naming the file.
    @Test func missingOrTruncatedCheckpoints() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = try failedRun(directory, name: "missing")
        try FileManager.default.removeItem(atPath: missing.checkpoint)
        #expect { try resume(missing.db) } throws: { error in
            (error as? RunNotResumable)?.reason == "its checkpoint \(missing.checkpoint) is missing"
        }
        #expect(try ResultStore(path: missing.db, mode: .existing).run(1).status == .failed)

        let truncated = try failedRun(directory, name: "truncated")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: truncated.checkpoint))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated.checkpoint))
        #expect { try resume(truncated.db) } throws: { error in
            print("truncated checkpoint: \(error.localizedDescription)")
            return error.localizedDescription.contains(truncated.checkpoint)
        }
        let store = try ResultStore(path: truncated.db, mode: .existing)
        #expect(try store.run(1).status == .failed)
        #expect(try store.weightSteps(run: 1) == [1], "nothing after the checkpoint's epoch is left behind")
    }

    /// A run left marked running (its process was killed) resumes without --force once its lock is free, and is
    /// refused while a live process holds the lock.
    @Test func aKilledRunResumesWithoutForce() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try failedRun(directory, name: "killed")
        let store = try ResultStore(path: run.db, mode: .existing)
        try store.connection.execute("UPDATE runs SET status = 'running' WHERE id = 1")   // as kill -9 leaves it
        #expect(RunOwnerLock.owner(store: store, run: 1) == .gone, "the failed process released its lock")
        var held: RunOwnerLock? = try RunOwnerLock.acquire(store: store, run: 1)
        #expect(RunOwnerLock.owner(store: store, run: 1) == .alive)
        #expect { try resume(run.db) } throws: { error in
            (error as? RunNotResumable)?.reason == "its process is still running (it holds the run's lock)"
        }
        #expect(try store.run(1).status == .running, "a refused resume changes nothing")
        withExtendedLifetime(held) {}
        held = nil
        let resumed = try resume(run.db)
        #expect(resumed.runID == 1)
        #expect(try store.run(1).status == .completed)
    }

    /// A run recorded on two ranks is not resumed in one process (its batches would differ): refused, naming both.
    @Test func aResumeOnAnotherRankCountIsRefused() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try failedRun(directory, name: "two-ranks")
        let store = try ResultStore(path: run.db, mode: .existing)
        #expect(RunOwnerLock.recordedRanks(store: store, run: 1) == 1)
        _ = try RunOwnerLock.acquire(store: store, run: 1, ranks: 2)   // as a 2-rank run's rank 0 leaves it
        #expect { try resume(run.db) } throws: { error in
            (error as? RunNotResumable)?.reason == "it ran on 2 ranks and this resume has 1: resume it with the same count (mpirun -np 2)"
        }
        #expect(try store.run(1).status == .failed, "a refused resume changes nothing")
    }
}
