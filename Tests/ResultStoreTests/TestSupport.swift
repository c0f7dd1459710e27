import Foundation
@testable import ResultStore

/// A fresh temporary folder per test, removed when the test's scope ends.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

func makeRun(_ store: ResultStore, application: String = "test-app", seed: UInt64 = 7) throws -> RunRecorder {
    try store.beginRun(RunDescriptor(application: application, recipe: "application: \(application)\n", seed: seed))
}
