import Foundation
import Testing
import WinnowTestSupport
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// `model.kind: sentence_embedding`: frozen all-MiniLM-L6-v2 features (installed by scripts/setup.sh) and a
/// trained head, on the toy WRENCH archive; the features are cached next to the database.
@Suite(.tags(.miniLM), .needsMiniLM) struct SentenceEmbeddingRunTests {
    typealias Toy = NoisyLabelApplicationTests
    static let overrides = [
        "model.kind=sentence_embedding", "model.max_length=32", "meta.method=sama", "meta.correct=true",
        "meta.perturb_touched_only=false",
    ]

    static func cacheFiles(_ directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory.appendingPathComponent("cache"), includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("minilm-") }
    }

    /// The metrics without timings.
    static func results(_ outcome: RunOutcome) -> [String: Double] { outcome.summary.metrics.filter { !$0.key.contains("seconds") } }

    @Test func runsOnCachedFeaturesAndRebuildsABrokenCache() throws {
        let directory = try Toy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try Toy.writeArchive(to: archive)

        let (first, store) = try Toy.run(Self.overrides, archive: archive, directory: directory)
        let m = first.summary.metrics
        for key in ["test_accuracy", "valid_accuracy", "weight_auc", "labels_fixed", "loss_auc"] {
            let value = try #require(m[key], "missing \(key)")
            #expect(value.isFinite && value >= 0 && value <= 1, "\(key) = \(value)")
        }
        #expect(try store.weights(run: first.runID, step: 3).count == 240)

        // One cache file of 384 floats per distinct text; the second run reads it and gets the same result.
        let files = try Self.cacheFiles(directory)
        try #require(files.count == 1)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: files[0].path)[.size] as? Int)
        #expect(size > 0 && size % (384 * 4) == 0)
        let (second, _) = try Toy.run(Self.overrides, archive: archive, directory: directory)
        #expect(Self.results(second) == Self.results(first))

        // The cache is really read: the same-sized file with every feature equal changes the run.
        let original = try Data(contentsOf: files[0])
        try [Float](repeating: 0.05, count: size / 4).withUnsafeBufferPointer { Data(buffer: $0) }.write(to: files[0])
        let (tampered, _) = try Toy.run(Self.overrides, archive: archive, directory: directory)
        #expect(Self.results(tampered) != Self.results(first))
        try original.write(to: files[0])

        // A truncated cache is ignored, recomputed and rewritten whole.
        let handle = try FileHandle(forWritingTo: files[0])
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let (third, _) = try Toy.run(Self.overrides, archive: archive, directory: directory)
        #expect(Self.results(third) == Self.results(first))
        #expect(try FileManager.default.attributesOfItem(atPath: files[0].path)[.size] as? Int == size)
    }

    @Test func cacheKeyDependsOnTextsModelAndLength() {
        let key = SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#1", maxLength: 32, width: 384)
        #expect(key == SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#1", maxLength: 32, width: 384))
        #expect(key != SentenceFeatureTable.cacheKey(["a", "b c"], model: "m#1", maxLength: 32, width: 384), "text boundaries count")
        #expect(key != SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#2", maxLength: 32, width: 384))
        #expect(key != SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#1", maxLength: 64, width: 384))
    }
}
