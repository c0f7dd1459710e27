import Foundation
import Testing

@testable import ResultStore

/// Schema v5: the environment a run ran in (`runs.environment`), written when it starts.
@Suite struct EnvironmentTests {
    static let sample = RunEnvironment(
        winnowVersion: "0.4.0", blas: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64", blasThreads: 2,
        blasThreadsVariable: "2", ranks: 1, host: "lab-1", cpuModel: "Intel(R) Xeon(R) CPU @ 2.20GHz", cpuCores: 2,
        os: "Debian GNU/Linux 12 (bookworm), Linux 6.1.0")

    /// A database exactly as schema v4 left it: one completed run with a metric and weights.
    func writeVersion4(_ path: String) throws {
        let connection = try Connection(path: path, mode: .readWriteCreate, busyTimeoutMilliseconds: 1_000)
        for index in 0..<4 { try connection.execute(Schema.migrations[index]) }
        try connection.execute(
            """
            PRAGMA user_version = 4;
            INSERT INTO runs (id, application, recipe, code_revision, seed, started_at, ended_at, status, metrics)
                VALUES (3, 'old', 'application: old', 'v0.3-1-gabc', 1, '2026-11-01T00:00:00.000Z',
                        '2026-11-01T00:01:00.000Z', 'completed', '{"test_accuracy": 0.75}');
            INSERT INTO metrics VALUES (3, 'loss', 1, 0.5), (3, 'loss', 2, 0.25);
            INSERT INTO sample_weights VALUES (3, 1, 0, 0.5);
            INSERT INTO weight_steps VALUES (3, 1, 1);
            """)
    }

    @Test func version4FileMigratesInPlaceAndOldRunsSayNotRecorded() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("v4.sqlite")
        try writeVersion4(path)
        let store = try ResultStore(path: path, mode: .existing)
        #expect(Schema.latestVersion == 5)
        #expect(try store.userVersion() == 5)
        let old = try store.run(3)
        #expect(old.environment == nil && old.codeRevision == "v0.3-1-gabc" && old.metrics == ["test_accuracy": 0.75])
        #expect(old.environmentFacts.count == 2 && old.environmentFacts[1].1.hasPrefix("not recorded"))
        #expect(try store.metrics(run: 3).map(\.value) == [0.5, 0.25])
        #expect(try store.weights(run: 3).map(\.weight) == [0.5])

        // A new run in the migrated file records its environment; opening again changes nothing.
        let recorder = try store.beginRun(
            RunDescriptor(application: "new", recipe: "application: new\n", codeRevision: "v0.4", seed: 1, environment: Self.sample))
        let again = try ResultStore(path: path, mode: .existing)
        #expect(try again.userVersion() == 5)
        #expect(try again.run(recorder.runID).environment == Self.sample)
        #expect(try again.integrityCheck() == "ok")
    }

    @Test func environmentRoundTripsAsAJSONObjectAndNamesTheCodeRevision() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("e.sqlite"))
        let recorder = try store.beginRun(
            RunDescriptor(application: "a", recipe: "application: a\n", codeRevision: "abc123", seed: 2, environment: Self.sample))
        let info = try store.run(recorder.runID)
        #expect(info.environment == Self.sample)
        let facts = Dictionary(uniqueKeysWithValues: info.environmentFacts)
        #expect(facts["code revision"] == "abc123" && facts["winnow"] == "0.4.0" && facts["MPI ranks"] == "1")
        #expect(facts["BLAS"] == "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64, 2 threads (OPENBLAS_NUM_THREADS=2)")
        #expect(facts["CPU"] == "Intel(R) Xeon(R) CPU @ 2.20GHz, 2 logical cores")
        // Plain JSON that sqlite3's json_extract reads.
        let statement = try store.connection.prepare("SELECT json_extract(environment, '$.cpu_cores') FROM runs WHERE id = ?")
        statement.bind(1, recorder.runID)
        #expect(try statement.all { $0.int(0) } == [2])
        #expect(RunEnvironment.decode("not json") == nil && RunEnvironment.decode(nil) == nil)
    }

    @Test func resumeKeepsTheFirstEnvironmentAndFillsAMissingOne() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("r.sqlite"))
        var other = Self.sample
        other.host = "lab-2"
        let first = try store.beginRun(
            RunDescriptor(application: "a", recipe: "application: a\n", seed: 1, environment: Self.sample))
        try first.fail("stopped")
        try store.reopenRun(first.runID, after: 0, environment: other).fail("stopped again")
        #expect(try store.run(first.runID).environment?.host == "lab-1")

        let bare = try makeRun(store)
        try bare.fail("stopped")
        try store.reopenRun(bare.runID, after: 0, environment: other).fail("stopped again")
        #expect(try store.run(bare.runID).environment?.host == "lab-2")
    }
}
