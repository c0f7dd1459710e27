import Foundation
import Testing
@testable import DataIO

/// The package root (three levels above this file).
let repoRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// A bundled dataset archive under `Datasets/`.
func bundled(_ name: String) -> String { repoRoot + "/Datasets/" + name }

let fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

/// A fresh temporary directory, removed by the caller with `cleanup`.
func makeTempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dataio-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func cleanup(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Writes an archive with the library's writer (libarchive) and returns its path.
func writeArchive(_ dir: String, _ name: String, _ entries: [(String, String)]) throws -> String {
    let path = dir + "/" + name
    try ArchiveWriter.write(to: path, entries: entries.map { (path: $0.0, bytes: bytes($0.1)) })
    return path
}

/// The RT weak-label dataset, loaded once for all tests.
let rtSentiment: Result<Dataset, any Error> = Result { try Dataset.load(path: bundled("rt-sentiment-weak.tar.gz")) }

/// Fashion-MNIST (70,000 images) from the system package, loaded once for all tests.
let fashionMNIST: Result<Dataset, any Error> = Result { try Dataset.load(path: fashionMNISTDir) }

/// Expects `body` to throw a `DataIOError` and returns it (nil, with a recorded issue, otherwise).
@discardableResult
func expectDataIOError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> DataIOError? {
    do {
        try body()
        Issue.record("expected a DataIOError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as DataIOError {
        return e
    } catch {
        Issue.record("expected a DataIOError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
