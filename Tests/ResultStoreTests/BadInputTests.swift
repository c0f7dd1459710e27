import Foundation
import Testing
@testable import ResultStore

/// One test per class of bad input a user can cause.
@Suite struct BadInputTests {
    @Test func missingDatabaseForQueries() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("absent.sqlite")
        #expect(throws: StoreError.notFound(path: path)) { try ResultStore(path: path, mode: .existing) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func unreadableDatabase() throws {
        let dir = try TemporaryDirectory()
        // A directory where the file should be.
        let folder = dir.path("folder.sqlite")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let error = try #require(throws: StoreError.self) { try ResultStore(path: folder) }
        guard case .unreadable(let path, _) = error else { Issue.record("got \(error)"); return }
        #expect(path == folder)
        // A regular file where a parent folder should be.
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.path("plain")))
        let nested = dir.path("plain/sub/w.sqlite")
        let second = try #require(throws: StoreError.self) { try ResultStore(path: nested) }
        guard case .unreadable = second else { Issue.record("got \(second)"); return }
        #expect(second.localizedDescription.contains(nested))
    }

    @Test func corruptDatabase() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("corrupt.sqlite")
        try Data(String(repeating: "this is not a database ", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: StoreError.self) { try ResultStore(path: path) }
        guard case .corrupt(let errorPath, _) = error else { Issue.record("got \(error)"); return }
        #expect(errorPath == path)
        #expect(error.localizedDescription.contains(path))
    }

    @Test func lockedDatabase() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("w.sqlite")
        let holder = try ResultStore(path: path)
        let other = try ResultStore(path: path, busyTimeoutMilliseconds: 50)
        try holder.connection.execute("BEGIN IMMEDIATE")
        let error = try #require(throws: StoreError.self) { try makeRun(other) }
        #expect(error == .locked(path: path))
        #expect(error.localizedDescription.contains(path))
        try holder.connection.execute("ROLLBACK")
        _ = try makeRun(other)
    }

    @Test func newerSchemaIsRefused() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("w.sqlite")
        let store = try ResultStore(path: path)
        try store.connection.execute("PRAGMA user_version = 99")
        #expect(throws: StoreError.newerSchema(path: path, found: 99, supported: Schema.latestVersion)) {
            try ResultStore(path: path)
        }
    }

    @Test func unknownRunID() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("w.sqlite")
        let store = try ResultStore(path: path)
        #expect(throws: StoreError.runNotFound(path: path, runID: 404)) { try store.run(404) }
        #expect(throws: StoreError.runNotFound(path: path, runID: 404)) { try store.topWeights(run: 404, count: 3) }
        #expect(throws: StoreError.runNotFound(path: path, runID: 404)) { try store.labels(run: 404) }
        let recorder = try makeRun(store)
        #expect(throws: StoreError.noResults(path: path, runID: recorder.runID, what: "sample weights")) {
            try store.weightHistogram(run: recorder.runID)
        }
        #expect(StoreError.runNotFound(path: path, runID: 404).localizedDescription.contains(path))
    }

    @Test func notANumberIsRejectedWholesale() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("w.sqlite"))
        let recorder = try makeRun(store)
        let error = try #require(throws: StoreError.self) { try recorder.recordWeights([1, 2, .nan, 4] as [Float], step: 7) }
        #expect(error.localizedDescription.contains("sample 2 at step 7 is NaN"))
        #expect(try store.count(table: "sample_weights") == 0)
        #expect(throws: StoreError.self) { try recorder.recordScores([.nan] as [Double]) }
    }
}

@Suite struct MigrationTests {
    /// An empty file (say, from `touch`) is a valid empty database: it is migrated, not called corrupt.
    @Test func emptyFileIsMigrated() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try ResultStore(path: path, mode: .existing)
        #expect(try store.userVersion() == Schema.latestVersion)
        #expect(try store.runs().isEmpty)
    }
}
