import DataIO
import Foundation
import Recipes
import ResultStore
import Runtime
import Tensors
import Testing
import WinnowTestSupport

@testable import ContinuedPretraining

/// `application: continued-pretraining` on tiny configurations: the tiny random encoder over the MiniLM
/// WordPiece vocabulary (so the suite needs the vocabulary file of the installed model, not its weights),
/// 48 task texts of the bundled sentiment archive and 40 documents of the bundled movie-plot corpus.
@Suite(.needsMiniLM) struct ContinuedPretrainingTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A temporary folder with a recipe for `method` (2 epochs of 6 base steps).
    static func recipe(method: String, epochs: Int = 2) throws -> (directory: URL, path: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-cpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let yaml = """
            application: continued-pretraining
            seed: 3
            method: \(method)
            dataset:
              archive: \(root.appendingPathComponent("Datasets/rt-sentiment-weak.tar.gz").path)
              train_subset: 48
              valid_subset: 24
              test_subset: 24
              corpus: \(root.appendingPathComponent("Datasets/rt-movie-corpus.tar.gz").path)
              max_documents: 40
            model:
              encoder: tiny
              max_length: 24
            training:
              epochs: \(epochs)
              batch_size: 8
              auxiliary_batch_size: 4
              learning_rate: 0.001
              head_warmup_steps: 3
              dapt_epochs: 1
            meta:
              method: \(method == "sama" ? "sama" : "finetune")
              unroll: 2
              learning_rate: 0.001
              batch_size: 8
              hidden_width: 16
            """
        let path = directory.appendingPathComponent("\(method).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path)
    }

    static func run(
        _ recipe: String, db: String, overrides: [String] = [], fault: (rank: Int, step: Int)? = nil, resume: Int64? = nil
    ) throws -> RunOutcome {
        var request = RunRequest(recipePath: resume == nil ? recipe : "", overrides: overrides, databasePath: db)
        request.injectedFault = fault
        request.resumeRunID = resume
        return try ApplicationRunner.run(request, registry: .builtIn)
    }

    @Test(arguments: ["finetune", "tartan-mt", "dapt", "sama"]) func methodRunsAndRecords(method: String) throws {
        let (directory, recipe) = try Self.recipe(method: method)
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("runs.sqlite").path
        let outcome = try Self.run(recipe, db: db)
        let metrics = outcome.summary.metrics
        for name in ["test_accuracy", "test_macro_f1", "valid_accuracy", "best_epoch", "last_test_accuracy"] {
            #expect(metrics[name]?.isFinite == true, "\(method): \(name) = \(String(describing: metrics[name]))")
        }
        #expect((0...1).contains(metrics["test_accuracy"] ?? -1) && (0...1).contains(metrics["test_macro_f1"] ?? -1))
        let store = try ResultStore(path: db, mode: .existing)
        #expect(try store.run(outcome.runID).status == .completed)
        let recorded = try store.metrics(run: outcome.runID)
        #expect(recorded.allSatisfy { $0.value?.isFinite == true }, "\(method): a recorded metric is not finite")
        let names = Set(recorded.map(\.name))
        for name in ["train_loss", "task_train_loss", "valid_accuracy", "valid_macro_f1", "test_accuracy", "test_macro_f1"] {
            #expect(names.contains(name), "\(method) records \(name)")
        }
        #expect(names.contains("mlm_loss") == (method != "finetune"))
        #expect(names.contains("head_warmup_mlm_loss") == (method != "finetune"))
        #expect(names.contains("dapt_mlm_loss") == (method == "dapt"))
        #expect(names.contains("meta_loss") == (method == "sama"))
        #expect(names.contains("train_mlm_loss") == (method == "sama" || method == "tartan-mt"))

        let weights = (try? store.weights(run: outcome.runID, step: 2)) ?? []
        switch method {
        case "sama", "tartan-mt":
            #expect(!weights.isEmpty && weights.count <= 40, "\(method): weights of corpus documents at epoch 2")
            #expect(weights.allSatisfy { $0.key?.hasPrefix("rtplot-") == true })
            #expect(!((try? store.weights(run: outcome.runID, step: 1)) ?? []).isEmpty)
            #expect(try store.tokenWeightSteps(run: outcome.runID) == [1, 2], "\(method): token weights per epoch")
            if method == "tartan-mt" {
                #expect(weights.allSatisfy { $0.weight == 1 }, "TARTAN-MT weighs every token 1")
                let tokens = try store.tokenWeights(run: outcome.runID, count: 10_000, descending: true)
                #expect(!tokens.isEmpty && tokens.allSatisfy { $0.weight == 1 })
            } else {
                #expect(weights.allSatisfy { $0.weight > 0 && $0.weight < 2 })
                #expect(weights.contains { abs($0.weight - 1) > 1e-7 }, "SAMA moved some weight off 1")
                #expect((metrics["meta_steps"] ?? 0) > 0)
            }
        default:
            #expect(weights.isEmpty, "\(method) records no weights")
            #expect(try store.tokenWeightSteps(run: outcome.runID).isEmpty)
        }
    }

    /// Fault at step 1: before the first checkpoint (the run starts over); at step 2: from epoch 1's checkpoint.
    @Test(arguments: [1, 2]) func resumedRunEndsWhereTheUninterruptedOneDoes(faultStep: Int) throws {
        let (directory, recipe) = try Self.recipe(method: "sama")
        defer { try? FileManager.default.removeItem(at: directory) }
        let straightDB = directory.appendingPathComponent("straight.sqlite").path
        let straight = try Self.run(recipe, db: straightDB)
        let db = directory.appendingPathComponent("interrupted.sqlite").path
        #expect(throws: ApplicationFailure.self) { try Self.run(recipe, db: db, fault: (0, faultStep)) }
        let store = try ResultStore(path: db, mode: .existing)
        #expect(try store.run(1).status == .failed)
        let resumed = try Self.run(recipe, db: db, resume: 1)
        #expect(resumed.summary.metrics == straight.summary.metrics)
        let straightStore = try ResultStore(path: straightDB, mode: .existing)
        for step in [1, 2] {
            #expect(try store.weights(run: 1, step: step) == straightStore.weights(run: straight.runID, step: step))
            #expect(
                try store.tokenWeights(run: 1, count: 100_000, descending: true, step: step)
                    == straightStore.tokenWeights(run: straight.runID, count: 100_000, descending: true, step: step))
        }
        let rows = try store.metrics(run: 1)
        #expect(Set(rows.map { "\($0.name)@\($0.step)" }).count == rows.count, "one value per metric and step")
    }

    /// A JSONL task archive of its own (class names as labels) with the task's train texts as the corpus.
    @Test func jsonlTaskWithItsOwnTextsAsCorpus() throws {
        let (directory, recipe) = try Self.recipe(method: "tartan-mt", epochs: 1)
        defer { try? FileManager.default.removeItem(at: directory) }
        let words = ["good", "bad", "film", "story", "great", "awful", "plot", "actor", "music", "scene"]
        var rng = RandomGenerator(seed: 7)
        func lines(_ split: String, _ count: Int) -> [UInt8] {
            let text = (0..<count).map { i -> String in
                let body = (0..<(4 + rng.integer(below: 6))).map { _ in words[rng.integer(below: words.count)] }
                let label = body.filter { $0 == "good" }.count >= body.filter { $0 == "bad" }.count ? "pos" : "neg"
                return #"{"id": "\#(split)-\#(i)", "text": "\#(body.joined(separator: " "))", "label": "\#(label)"}"#
            }
            return Array((text.joined(separator: "\n") + "\n").utf8)
        }
        let archive = directory.appendingPathComponent("task.tar.gz").path
        try ArchiveWriter.write(
            to: archive,
            entries: [
                (path: "task/train.jsonl", bytes: lines("train", 40)), (path: "task/valid.jsonl", bytes: lines("valid", 12)),
                (path: "task/test.jsonl", bytes: lines("test", 12)),
            ])
        let db = directory.appendingPathComponent("runs.sqlite").path
        let outcome = try Self.run(recipe, db: db, overrides: ["dataset.archive=\(archive)", "dataset.corpus=task"])
        #expect(outcome.summary.metrics["test_accuracy"]?.isFinite == true)
        let store = try ResultStore(path: db, mode: .existing)
        let weights = try store.weights(run: outcome.runID, step: 1)
        #expect(!weights.isEmpty && weights.allSatisfy { $0.weight == 1 && $0.key?.hasPrefix("train-") == true })
    }

    @Test func badSettingsNameTheirKey() throws {
        typealias Config = ContinuedPretrainingApplication.Config
        func key(_ change: (inout Config) -> Void) -> String? {
            var config = Config()
            change(&config)
            do { try config.validate() } catch let error as InvalidSetting { return error.key } catch { return "\(error)" }
            return nil
        }
        #expect(key { _ in } == nil, "the defaults are valid")
        #expect(key { $0.training.beta2 = 1 } == "training.beta2")
        #expect(key { $0.training.epsilon = 0 } == "training.epsilon")
        #expect(key { $0.training.headWarmupSteps = -1 } == "training.head_warmup_steps")
        #expect(key { $0.training.auxiliaryWeight = .nan } == "training.auxiliary_weight")
        #expect(key { $0.training.warmupFraction = 1 } == "training.warmup_fraction")
        #expect(key { $0.training.epochs = 0 } == "training.epochs")
        #expect(key { $0.model.maxLength = 2 } == "model.max_length")
        #expect(key { $0.model.dropout = 1 } == "model.dropout")
        #expect(key { $0.dataset.trainSubset = -5 } == "dataset.train_subset")
        #expect(key { $0.dataset.corpus = "" } == "dataset.corpus")
        #expect(key { $0.meta.unroll = 0 } == "meta.unroll")
        #expect(key { $0.meta.hiddenWidth = 0 } == "meta.hidden_width")
        #expect(key { $0.meta.method = .finetune } == "meta.method")
        #expect(
            key {
                $0.method = .dapt; $0.training.daptEpochs = 0
            } == "training.dapt_epochs")

        // Through a recipe: nothing is recorded, and the message names the key.
        let (directory, recipe) = try Self.recipe(method: "sama")
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("runs.sqlite").path
        #expect {
            try Self.run(recipe, db: db, overrides: ["training.auxiliary_batch_size=0"])
        } throws: { error in
            error.localizedDescription.contains("training.auxiliary_batch_size")
        }
        #expect {
            try Self.run(recipe, db: db, overrides: ["method=mlm"])
        } throws: { error in
            error.localizedDescription.contains("method")
        }
    }
}

/// The pretrained path: all-MiniLM-L6-v2 under both heads, a few steps of each stage (about 15 s).
@Suite(.tags(.miniLM, .slow), .needsMiniLM, .slowTier) struct ContinuedPretrainingMiniLMTests {
    @Test func samaOnMiniLMRunsAndTheHeadWarmUpLearns() throws {
        let (directory, recipe) = try ContinuedPretrainingTests.recipe(method: "sama", epochs: 1)
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("runs.sqlite").path
        let outcome = try ContinuedPretrainingTests.run(
            recipe, db: db,
            overrides: [
                "model.encoder=minilm", "model.max_length=48", "training.head_warmup_steps=20", "training.learning_rate=0.00002",
                "meta.unroll=3",
            ])
        let metrics = outcome.summary.metrics
        #expect(metrics.values.allSatisfy { $0.isFinite }, "\(metrics)")
        let start = try #require(metrics["head_warmup_mlm_loss_start"]), end = try #require(metrics["head_warmup_mlm_loss"])
        #expect(start > 9 && start < 13, "a fresh head starts near ln 30,522 ≈ 10.3: \(start)")
        #expect(end < start - 1, "the head learns on the frozen encoder: \(start) → \(end)")
        #expect((metrics["meta_steps"] ?? 0) > 0)
    }
}
