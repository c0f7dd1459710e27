import Foundation
import Testing
import WinnowTestSupport
@testable import NeuralNetworks
@testable import Tensors
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

    /// `layers: .all` concatenates the unit-length means after the embeddings and after every layer, each scaled by
    /// 1/√7: the last part is the usual embedding scaled, the first the mean of the embedding layer's output.
    @Test func allLayersEmbeddingConcatenatesEveryLayersMean() throws {
        let embedder = try SentenceEmbedder.miniLM()
        let texts = ["a quiet, moving film", "the plot never gets going and the jokes fall flat"]
        let last = embedder.embed(texts, maxLength: 32)
        let all = embedder.embed(texts, maxLength: 32, layers: .all)
        let width = embedder.dimension, parts = embedder.encoder.configuration.layers + 1
        #expect(embedder.dimension(.all) == width * parts && parts == 7)
        let ids = texts.map { embedder.tokenizer.encode($0, maxLength: 32) }
        for (i, vector) in all.enumerated() {
            try #require(vector.count == width * parts)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4, "unit length overall")
            let scale = Float(parts).squareRoot()
            for k in 0..<width { #expect(abs(vector[(parts - 1) * width + k] * scale - last[i][k]) < 1e-5) }
            // The first part: the embedding layer's output, pooled and normalised here from the encoder's own states.
            let states = withoutGrad {
                embedder.encoder.hiddenStates([ids[i]], mask: [ids[i].map { _ in 1 }], ForwardContext(training: false))
            }
            #expect(states.count == parts)
            let mask = [ids[i].map { _ in 1 }]
            let final = withoutGrad { embedder.encoder([ids[i]], mask: mask, ForwardContext(training: false)) }
            #expect(states[parts - 1].scalars == final.scalars, "the last state is the encoder's output")
            let firstPooled = BertEncoder.meanPool(states[0], mask: mask).scalars
            let lastPooled = BertEncoder.meanPool(states[parts - 1], mask: mask).scalars
            #expect(zip(firstPooled, lastPooled).contains { abs($0 - $1) > 1e-3 }, "the states differ by layer")
            let pooled = BertEncoder.meanPool(states[0], mask: [ids[i].map { _ in 1 }]).scalars
            let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for k in 0..<width { #expect(abs(vector[k] * scale - pooled[k] / norm) < 1e-5) }
        }
    }

    /// A run on every layer's features caches a 2,688-wide table beside the 384-wide one; the key applies to
    /// sentence embeddings only.
    @Test func runsOnAllLayersFeatures() throws {
        let directory = try Toy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try Toy.writeArchive(to: archive)
        func cacheSizes() throws -> Set<Int> {
            Set(try Self.cacheFiles(directory).map { try FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int ?? 0 })
        }
        _ = try Toy.run(Self.overrides, archive: archive, directory: directory)
        let lastSize = try #require(try cacheSizes().first)
        let (outcome, _) = try Toy.run(Self.overrides + ["model.embedding_layers=all"], archive: archive, directory: directory)
        let accuracy = try #require(outcome.summary.metrics["test_accuracy"])
        #expect(accuracy.isFinite && accuracy >= 0 && accuracy <= 1)
        #expect(try cacheSizes() == [lastSize, 7 * lastSize], "a second table, 7 × as wide, for the same texts")
        #expect {
            _ = try Toy.run(["model.embedding_layers=all"], archive: archive, directory: directory)
        } throws: { error in
            "\(error.localizedDescription)".contains("model.embedding_layers")
                && "\(error.localizedDescription)".contains("not embedding_bag")
        }
    }

    @Test func cacheKeyDependsOnTextsModelAndLength() {
        let key = SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#1", maxLength: 32, width: 384)
        #expect(key == SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#1", maxLength: 32, width: 384))
        #expect(key != SentenceFeatureTable.cacheKey(["a", "b c"], model: "m#1", maxLength: 32, width: 384), "text boundaries count")
        #expect(key != SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#2", maxLength: 32, width: 384))
        #expect(key != SentenceFeatureTable.cacheKey(["a b", "c"], model: "m#1", maxLength: 64, width: 384))
    }
}
