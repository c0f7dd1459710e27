import DataIO
import Foundation
import Testing
import MetaLearning
import ResultStore
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// The noisy-label application end to end on a small synthetic WRENCH archive: what it records, the gold
/// ceiling, and clear errors on bad data and settings.
@Suite struct NoisyLabelApplicationTests {
    /// Texts of 3 sentiment words of the gold class among 4 neutral ones; three labeling functions each right
    /// 80% of the time and abstaining 20%; `valid` and `test` clean.
    static func writeArchive(
        to path: String, trainCount: Int = 240, dropTextOf: String? = nil, splits: [String] = ["train", "valid", "test"]
    ) throws {
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let positive = ["good", "great", "fine", "fun", "superb"], negative = ["bad", "dull", "poor", "weak", "awful"]
        let neutral = ["film", "plot", "actor", "scene", "story", "movie", "cast", "script"]
        func split(_ name: String, count: Int) -> String {
            var entries: [String] = []
            for i in 0..<count {
                let gold = Int(next() % 2)
                var words = (0..<4).map { _ in neutral[Int(next() % 8)] }
                for _ in 0..<3 {
                    words.insert((gold == 1 ? positive : negative)[Int(next() % 5)], at: Int(next() % UInt64(words.count + 1)))
                }
                let weak = (0..<3).map { _ -> Int in
                    let r = next() % 10
                    return r < 2 ? -1 : (r < 8 ? gold : 1 - gold)
                }
                let id = "\(name)-\(i)"
                let data = id == dropTextOf ? "{}" : "{\"text\": \"\(words.joined(separator: " "))\"}"
                entries.append("\"\(id)\": {\"label\": \(gold), \"weak_labels\": \(weak), \"data\": \(data)}")
            }
            return "{" + entries.joined(separator: ", ") + "}"
        }
        var members = [(path: "toy/label.json", bytes: Array(#"{"0": "negative", "1": "positive"}"#.utf8))]
        for name in splits {
            members.append((path: "toy/\(name).json", bytes: Array(split(name, count: name == "train" ? trainCount : 80).utf8)))
        }
        try ArchiveWriter.write(to: path, entries: members)
    }

    static func run(_ overrides: [String], archive: String, directory: URL) throws -> (RunOutcome, ResultStore) {
        let recipe = directory.appendingPathComponent("recipe-\(UUID()).yaml").path
        try "application: noisy-labels\nseed: 3\n".write(toFile: recipe, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("results.sqlite").path
        let outcome = try ApplicationRunner.run(
            RunRequest(recipePath: recipe, overrides: smallRun(archive: archive) + overrides, databasePath: db), registry: .builtIn)
        return (outcome, try ResultStore(path: db, mode: .existing))
    }

    /// Overrides for a small, fast run on the toy archive: 3 epochs of 15 steps, a meta step every 2.
    static func smallRun(archive: String) -> [String] {
        [
            "dataset.archive=\(archive)", "model.buckets=512", "model.embedding_width=16", "model.hidden_width=16",
            "training.batch_size=16", "training.epochs=3", "training.learning_rate=0.01", "meta.batch_size=16", "meta.unroll=2",
        ]
    }

    static func temporaryDirectory() throws -> URL { try makeTemporaryDirectory(prefix: "winnow-noisy") }

    /// Runs `body` with the path of a fresh toy archive and its temporary directory, removed afterwards.
    static func withToyArchive<T>(_ body: (_ archive: String, _ directory: URL) throws -> T) throws -> T {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try writeArchive(to: archive)
        return try body(archive, directory)
    }

    @Test func samaReweightAndCorrectRecordsEverything() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try Self.writeArchive(to: archive)
        let (outcome, store) = try Self.run(["meta.method=sama", "meta.correct=true"], archive: archive, directory: directory)
        let m = outcome.summary.metrics
        #expect(m["meta_steps"] == 22, "one meta step every 2 of the 15 base steps per epoch, 3 epochs")
        for key in [
            "test_accuracy", "valid_accuracy", "weight_auc", "weight_mean_wrong", "weight_mean_right",
            "labels_fixed", "labels_broken", "corrected_label_accuracy", "gate", "loss_auc",
        ] {
            let value = try #require(m[key], "missing \(key)")
            #expect(value.isFinite && value >= 0 && value <= 1, "\(key) = \(value)")
        }
        // Per-epoch weights of the 15 × 16 = 240 samples seen, keyed by the dataset's ids.
        #expect(try store.weightSteps(run: outcome.runID) == [1, 2, 3])
        let weights = try store.weights(run: outcome.runID, step: 3)
        #expect(weights.count == 240 && weights.allSatisfy { $0.weight > 0 && $0.weight < 1 })
        #expect(try store.sampleKeys(run: outcome.runID).prefix(2).allSatisfy { $0.hasPrefix("train-") })
        let labels = try store.labels(run: outcome.runID)
        #expect(labels.count == 240 && labels.allSatisfy { ($0.distribution?.count ?? 0) == 2 })
        #expect(try store.metrics(run: outcome.runID, name: "test_accuracy").map(\.step) == [1, 2, 3])
        #expect(outcome.summary.notes.contains { $0.contains("winnow weights --run \(outcome.runID)") })
    }

    /// `BilevelRun` records each epoch's steps and the seconds of each training phase; SAMA's adaptation among them.
    @Test func everyEpochRecordsItsStepsAndSecondsPerPhase() throws {
        try Self.withToyArchive { archive, directory in
            let (outcome, store) = try Self.run(["meta.method=sama"], archive: archive, directory: directory)
            let points = try store.metrics(run: outcome.runID)
            func values(_ name: String) -> [Double] { points.filter { $0.name == name }.sorted { $0.step < $1.step }.compactMap(\.value) }
            #expect(values(EpochBookkeeping.baseSteps) == [15, 15, 15])
            #expect(values(EpochBookkeeping.metaSteps) == [7, 8, 7], "a meta step every 2 base steps: 22 in all")
            for phase in StepPhase.allCases {
                let seconds = values(phase.metricName)
                #expect(seconds.count == 3 && seconds.allSatisfy { $0 > 0 }, "\(phase.metricName): \(seconds)")
            }
            let (plain, plainStore) = try Self.run(["meta.method=finetune"], archive: archive, directory: directory)
            let recorded = Set(try plainStore.metrics(run: plain.runID).map(\.name))
            #expect(recorded.contains(StepPhase.baseForward.metricName) && !recorded.contains(StepPhase.adaptation.metricName))
        }
    }

    @Test func voteShareTargets() {
        #expect(NoisyLabelData.voteShare([1, 1, -1, 0, 1], classes: 2) == [0.25, 0.75])
        #expect(NoisyLabelData.voteShare([-1, -1], classes: 2) == nil, "all abstain: the tie policy decides")
        #expect(NoisyLabelData.voteShare([0, 3], classes: 2) == nil, "a vote outside the classes")
    }

    @Test func voteShareRunTrainsOnSoftTargets() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try Self.writeArchive(to: archive)
        let (outcome, _) = try Self.run(["meta.method=sama", "dataset.weak_targets=vote_share"], archive: archive, directory: directory)
        #expect(outcome.summary.metrics["weight_auc"] != nil)
        // Soft targets of split votes keep the training loss above the entropy of the vote shares: above
        // the loss of the same training on one-hot majority votes.
        let (shares, _) = try Self.run(["meta.method=finetune", "dataset.weak_targets=vote_share"], archive: archive, directory: directory)
        let (majority, _) = try Self.run(["meta.method=finetune"], archive: archive, directory: directory)
        let shareLoss = try #require(shares.summary.metrics["train_loss"]),
            majorityLoss = try #require(majority.summary.metrics["train_loss"])
        #expect(shareLoss > majorityLoss + 0.02, "train loss \(shareLoss) with vote shares vs \(majorityLoss) with majority votes")
        #expect(throws: RecipeError.self) { try Self.run(["dataset.weak_targets=votes"], archive: archive, directory: directory) }
    }

    @Test func trainOnMetaSplitControlAddsTheCleanSamples() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try Self.writeArchive(to: archive)
        let (outcome, store) = try Self.run(
            ["meta.method=finetune", "dataset.train_on_meta_split=true"], archive: archive, directory: directory)
        #expect(outcome.summary.metrics["train_samples"] == 320, "240 weakly labeled + 80 clean")
        let keys = try store.sampleKeys(run: outcome.runID)
        #expect(keys.count == 320 && keys.last == "valid/valid-79")
    }

    @Test func goldCeilingAndFinetuneBaseline() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try Self.writeArchive(to: archive)
        let (gold, store) = try Self.run(
            ["meta.method=finetune", "dataset.train_labels=gold", "training.epochs=6"], archive: archive, directory: directory)
        // Three sentiment words of the gold class in every text: clean labels make this easy.
        #expect(gold.summary.metrics["test_accuracy"]! >= 0.95)
        #expect(gold.summary.metrics["meta_steps"] == 0)
        #expect(try store.weightSteps(run: gold.runID).isEmpty, "finetune learns no weights")
        let (weak, _) = try Self.run(["meta.method=finetune", "training.epochs=6"], archive: archive, directory: directory)
        #expect(weak.summary.metrics["test_accuracy"]! >= 0.8, "majority vote is right ~90% of the time here")
    }

    @Test func badDataAndSettingsAreClearErrors() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let noValid = directory.appendingPathComponent("novalid.tar.gz").path
        try Self.writeArchive(to: noValid, splits: ["train", "test"])
        #expect { try Self.run([], archive: noValid, directory: directory) } throws: { error in
            let text = error.localizedDescription
            return text.contains("no split 'valid'") && text.contains("dataset.meta_split") && text.contains(noValid)
        }
        let noText = directory.appendingPathComponent("notext.tar.gz").path
        try Self.writeArchive(to: noText, dropTextOf: "train-5")
        #expect { try Self.run([], archive: noText, directory: directory) } throws: { error in
            error.localizedDescription.contains("sample 'train-5' has no data.text") && error.localizedDescription.contains("train.json")
        }
        let jsonl = directory.appendingPathComponent("plain.tar.gz").path
        try ArchiveWriter.write(to: jsonl, entries: [(path: "d/train.jsonl", bytes: Array(#"{"id": "a", "text": "x", "label": 0}"#.utf8))])
        #expect { try Self.run([], archive: jsonl, directory: directory) } throws: { error in
            error.localizedDescription.contains("needs a WRENCH-layout dataset")
        }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        try Self.writeArchive(to: archive)
        #expect { try Self.run(["meta.reweight=false"], archive: archive, directory: directory) } throws: { error in
            error.localizedDescription.contains("meta.method") && error.localizedDescription.contains("meta.correct")
        }
        #expect { try Self.run(["meta.method=samma"], archive: archive, directory: directory) } throws: { error in
            error.localizedDescription.contains("did you mean 'sama'")
        }
    }
}
