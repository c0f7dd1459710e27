import Distributed
import Foundation
import ResultStore
import Testing
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime
import MetaLearning

/// The noisy-label application on two ranks on threads: rank 0 records the gathered per-sample results of
/// both ranks, and training matches one process where the mathematics is shard-independent.
@Suite struct DataParallelNoisyLabelTests {
    static func runOnRanks(_ size: Int, _ overrides: [String], archive: String, directory: URL, db: String) throws -> [RunOutcome] {
        let recipe = directory.appendingPathComponent("recipe-\(UUID()).yaml").path
        try "application: noisy-labels\nseed: 3\n".write(toFile: recipe, atomically: true, encoding: .utf8)
        let base = NoisyLabelApplicationTests.smallRun(archive: archive)
        return try InProcessGroup.run(size: size) { communicator in
            var request = RunRequest(recipePath: recipe, overrides: base + overrides, databasePath: db)
            request.progress = .silent
            request.communicator = communicator
            return try ApplicationRunner.run(request, registry: .builtIn)
        }
    }

    /// Finetune without dropout: the mean loss over the global batch is the mean of the two shard means, so two
    /// ranks follow one process up to the rounding of the gradient reduction.
    @Test func finetuneOnTwoRanksMatchesOneProcess() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try NoisyLabelApplicationTests.writeArchive(to: archive)
        let overrides = ["meta.method=finetune", "model.dropout=0"]
        let one = try Self.runOnRanks(
            1, overrides, archive: archive, directory: directory, db: directory.appendingPathComponent("one.sqlite").path)
        let two = try Self.runOnRanks(
            2, overrides, archive: archive, directory: directory, db: directory.appendingPathComponent("two.sqlite").path)
        let a = try #require(one[0].summary.metrics["test_accuracy"]), b = try #require(two[0].summary.metrics["test_accuracy"])
        let lossA = try #require(one[0].summary.metrics["test_loss"]), lossB = try #require(two[0].summary.metrics["test_loss"])
        print("noisy-labels finetune: 1 rank test accuracy \(a) loss \(lossA); 2 ranks \(b) loss \(lossB)")
        #expect(two[1].summary.metrics["test_accuracy"] == b, "ranks report different sharded evaluations")
        #expect(abs(a - b) <= 1.0 / 60 + 1e-9)
        #expect(abs(lossA - lossB) < 1e-3)
    }

    /// `training.sparse_embedding_reduction`: the embedding bag's table reduced by the rows the batches touch
    /// trains exactly as the dense reduction does.
    @Test func sparseEmbeddingReductionTrainsLikeTheDenseOne() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try NoisyLabelApplicationTests.writeArchive(to: archive)
        func run(_ sparse: Bool) throws -> [String: Double] {
            let db = directory.appendingPathComponent("\(sparse).sqlite").path
            return try Self.runOnRanks(
                2, ["meta.method=sama", "training.sparse_embedding_reduction=\(sparse)"],
                archive: archive, directory: directory, db: db)[0].summary.metrics
        }
        var config = NoisyLabelsApplication.Config()
        #expect(
            !config.engineConfiguration(seed: 0).sparseRowReduction
                && !(config.engineConfiguration(seed: 0).method as! SAMA).freezeMetaInputs)
        config.training.sparseEmbeddingReduction = true
        config.meta.freezeMetaInputs = true
        #expect(
            config.engineConfiguration(seed: 0).sparseRowReduction && (config.engineConfiguration(seed: 0).method as! SAMA).freezeMetaInputs
        )
        let dense = try run(false), sparse = try run(true)
        for key in ["test_accuracy", "test_loss", "weight_auc"] {
            #expect(dense[key] != nil && dense[key] == sparse[key], "\(key): dense \(dense[key] ?? .nan), sparse \(sparse[key] ?? .nan)")
        }
    }

    /// SAMA reweight + correct on two ranks: every training sample's weight and corrected label reaches
    /// rank 0's store, keyed by the dataset's ids; rank 1 writes nothing to disk.
    @Test func samaOnTwoRanksRecordsEverySampleOnRankZero() throws {
        let directory = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try NoisyLabelApplicationTests.writeArchive(to: archive)
        let db = directory.appendingPathComponent("two.sqlite").path
        let outcomes = try Self.runOnRanks(2, ["meta.method=sama", "meta.correct=true"], archive: archive, directory: directory, db: db)
        let store = try ResultStore(path: db, mode: .existing)
        let run = outcomes[0].runID
        #expect(try store.weightSteps(run: run) == [1, 2, 3])
        let weights = try store.weights(run: run, step: 3)
        #expect(weights.count == 240 && weights.allSatisfy { $0.weight > 0 && $0.weight < 1 })
        #expect(Set(weights.map(\.sampleID)) == Set(0..<240))
        #expect(try store.labels(run: run).count == 240)
        for key in ["weight_auc", "labels_fixed", "test_accuracy"] { #expect(outcomes[0].summary.metrics[key] != nil, "missing \(key)") }
        #expect(try store.runs().count == 1)
    }
}
