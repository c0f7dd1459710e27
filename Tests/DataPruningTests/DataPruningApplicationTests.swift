import DataIO
import Foundation
import Recipes
import ResultStore
import Runtime
import Testing
@testable import DataPruning

/// `application: data-pruning` end to end on a small synthetic IDX dataset: every stage, the sweep's table and
/// plot, resuming after a failure at a meta epoch and at a retraining, and bad settings naming their key.
@Suite struct DataPruningApplicationTests {
    static let registry = ApplicationRegistry([DataPruningApplication.self])

    /// 3 classes of 8×8 images: class c lights a band of rows around 2c + 1, plus seeded noise. 96 train, 30 test.
    static func dataset(train: Int = 96, test: Int = 30) throws -> Folder {
        let folder = try Folder()
        var rng = SplitMix(seed: 5)
        func images(_ count: Int) -> ([[UInt8]], [UInt8]) {
            var pixels: [[UInt8]] = [], labels: [UInt8] = []
            for i in 0..<count {
                let label = i % 3
                pixels.append(
                    (0..<64).map { p in
                        let row = p / 8
                        let lit = abs(row - (2 * label + 1)) <= 1
                        return UInt8(min(255, (lit ? 150 : 30) + Int(rng.next() % 100)))
                    })
                labels.append(UInt8(label))
            }
            return (pixels, labels)
        }
        let (trainImages, trainLabels) = images(train), (testImages, testLabels) = images(test)
        try folder.writeIDX(prefix: "train", images: trainImages, side: 8, labels: trainLabels)
        try folder.writeIDX(prefix: "t10k", images: testImages, side: 8, labels: testLabels)
        return folder
    }

    /// A small sweep: MLP, 3 epochs, two ratios, two seeds.
    static func recipe(in folder: Folder, stage: String = "sweep") throws -> String {
        let path = folder.path + "/pruning-\(stage).yaml"
        try folder.write(
            "pruning-\(stage).yaml",
            """
            application: data-pruning
            seed: 3
            stage: \(stage)
            dataset:
              archive: \(folder.path)
              classes: 3
            model:
              kind: mlp
              widths: [16]
            training:
              epochs: 3
              batch_size: 16
              learning_rate: 0.05
              momentum: 0.9
            meta:
              unroll: 2
              batch_size: 16
              last_epochs: 2
              hidden_width: 8
            baselines:
              early_epoch: 1
              early_seeds: [0, 1]
            retrain:
              ratios: [0.25, 0.5]
              seeds: [0, 1]

            """)
        return path
    }

    static func run(
        _ recipe: String, db: String, overrides: [String] = [], fault: (rank: Int, step: Int)? = nil,
        resume: Int64? = nil
    ) throws -> RunOutcome {
        var request = RunRequest(recipePath: resume == nil ? recipe : "", overrides: overrides, databasePath: db)
        request.injectedFault = fault
        request.resumeRunID = resume
        return try ApplicationRunner.run(request, registry: registry)
    }

    /// Every score of a run by name, as (sample key, value) pairs in sample order.
    static func allScores(_ db: String, run: Int64) throws -> [String: [Double]] {
        let store = try ResultStore(path: db, mode: .existing)
        var result: [String: [Double]] = [:]
        for name in try store.scoreNames(run: run) {
            result[name] = try store.scores(run: run, name: name).sorted { $0.sampleID < $1.sampleID }.map(\.score)
        }
        return result
    }

    @Test func sweepScoresEverySampleRetrainsAndWritesTheTableAndPlot() throws {
        let data = try Self.dataset()
        let db = data.path + "/results.sqlite"
        let outcome = try Self.run(Self.recipe(in: data), db: db)
        let scores = try Self.allScores(db, run: outcome.runID)
        let names = ["aum", "el2n", "forgetting", "grand", "least_confidence", "margin", "random", "sama"]
        #expect(scores.keys.sorted() == names)
        #expect(scores.values.allSatisfy { $0.count == 96 && $0.allSatisfy(\.isFinite) })
        // Class-balanced random: each class's scores are (rank + ½) / 32.
        #expect(
            Set(scores["random"]!.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
                == Set((0..<32).map { (Double($0) + 0.5) / 32 }))
        let metrics = outcome.summary.metrics
        for name in names {
            for ratio in ["0.25", "0.50"] {
                let value = try #require(metrics["relative_accuracy.\(name).prune-\(ratio)"], "no result for \(name) at \(ratio)")
                #expect(value > 0 && value < 2)
            }
        }
        let full = try #require(metrics["full_test_accuracy"])
        #expect(full > 0.9, "the synthetic classes are easy: full-data accuracy \(full)")
        let store = try ResultStore(path: db, mode: .existing)
        let kept = try store.metrics(run: outcome.runID).filter { $0.name == "kept.el2n.prune-0.25.seed-1" }
        #expect(kept.map(\.value) == [72])
        // The table and the plot next to the database.
        let table = try String(contentsOfFile: data.path + "/results-run-\(outcome.runID)-pruning.md", encoding: .utf8)
        #expect(table.contains("| score | 25% pruned | 50% pruned |") && table.contains("| sama | "))
        let plot = try String(contentsOfFile: data.path + "/results-run-\(outcome.runID)-pruning.svg", encoding: .utf8)
        #expect(plot.hasPrefix("<svg") || plot.hasPrefix("<?xml"))
        for name in names { #expect(plot.contains(">\(name)<"), "the plot's legend has no \(name)") }
        // The meta score's weights were recorded per epoch.
        #expect(try store.weightSteps(run: outcome.runID) == [1, 2, 3])
    }

    @Test(arguments: [2, 8]) func resumedSweepMatchesTheUninterruptedOne(faultStep: Int) throws {
        // Step 2 is the second meta epoch (resumes from the engine checkpoint of epoch 1); step 8 is the second
        // retraining (epochs 1–3, three baseline units at 4–6, full-data seed 0 at 7).
        let data = try Self.dataset()
        let recipe = try Self.recipe(in: data)
        let straight = try Self.run(recipe, db: data.path + "/straight.sqlite")
        let db = data.path + "/interrupted.sqlite"
        #expect(throws: ApplicationFailure.self) { try Self.run(recipe, db: db, fault: (0, faultStep)) }
        let store = try ResultStore(path: db, mode: .existing)
        #expect(try store.run(1).status == .failed)
        let resumed = try Self.run(recipe, db: db, resume: 1)
        // Everything but the seconds an epoch took.
        let untimed = { (metrics: [String: Double]) in metrics.filter { $0.key != "meta_epoch_seconds" } }
        #expect(untimed(resumed.summary.metrics) == untimed(straight.summary.metrics))
        #expect(resumed.summary.metrics["meta_epoch_seconds"] != nil)
        #expect(try Self.allScores(db, run: 1) == Self.allScores(data.path + "/straight.sqlite", run: straight.runID))
        // No duplicate rows: one value per metric name and step.
        let rows = try store.metrics(run: 1)
        #expect(Set(rows.map { "\($0.name)@\($0.step)" }).count == rows.count)
    }

    @Test func retrainStageUsesTheScoresOfEarlierRuns() throws {
        let data = try Self.dataset()
        let db = data.path + "/stages.sqlite"
        let baselines = try Self.run(
            Self.recipe(in: data, stage: "baselines"), db: db, overrides: ["baselines.scores=[random, el2n]"])
        #expect(try Self.allScores(db, run: baselines.runID).keys.sorted() == ["el2n", "random"])
        let retrain = try Self.run(
            Self.recipe(in: data, stage: "retrain"), db: db,
            overrides: ["retrain.score_runs=[\(baselines.runID)]", "retrain.seeds=[4]"])
        let metrics = retrain.summary.metrics
        #expect(
            metrics.keys.filter { $0.hasPrefix("relative_accuracy.") }.sorted() == [
                "relative_accuracy.el2n.prune-0.25", "relative_accuracy.el2n.prune-0.50",
                "relative_accuracy.random.prune-0.25", "relative_accuracy.random.prune-0.50",
            ])
        // Scores of a run on fewer samples do not cover this dataset: the error names the sample.
        let small = try Self.run(
            Self.recipe(in: data, stage: "baselines"), db: db, overrides: ["baselines.scores=[random]", "dataset.train_samples=50"])
        let failure = try #require(throws: ApplicationFailure.self) {
            try Self.run(Self.recipe(in: data, stage: "retrain"), db: db, overrides: ["retrain.score_runs=[\(small.runID)]"])
        }
        #expect(failure.localizedDescription.contains("has no value for sample 'train-images-idx3-ubyte#50'"))
    }

    @Test func badSettingsNameTheirKey() throws {
        let data = try Self.dataset()
        let recipe = try Self.recipe(in: data)
        let db = data.path + "/bad.sqlite"
        let cases: [([String], String)] = [
            (["retrain.ratios=[0.5, 1.5]"], "retrain.ratios[1]"),
            (["retrain.ratios=[0]"], "retrain.ratios[0]"),
            (["baselines.scores=[el2m]"], "did you mean 'el2n'"),
            (["retrain.scores=[sama, forgeting]"], "did you mean 'forgetting'"),
            (["stage=retrain"], "retrain.score_runs"),
            (["meta.last_epochs=4"], "meta.last_epochs"),
            (["meta.method=finetune"], "meta.method"),
            (["training.epochs=9223372036854775807"], "training.epochs"),
            (["model.widths=[0]"], "model.widths[0]"),
            (["dataset.classes=1"], "dataset.classes"),
            (["stage=retrain", "retrain.score_runs=[42]"], "run 42"),
        ]
        for (overrides, expected) in cases {
            do {
                _ = try Self.run(recipe, db: db, overrides: overrides)
                Issue.record("\(overrides) ran")
            } catch {
                #expect(error.localizedDescription.contains(expected), "\(overrides): \(error.localizedDescription)")
            }
        }
        // A label outside `dataset.classes` names the file and the sample; the run is marked failed.
        let failure = try #require(throws: ApplicationFailure.self) { try Self.run(recipe, db: db, overrides: ["dataset.classes=2"]) }
        #expect(failure.localizedDescription.contains("train-labels-idx1-ubyte: id 'train-images-idx3-ubyte#2': label 2 is outside"))
        let store = try ResultStore(path: db, mode: .existing)
        #expect(try store.scoreNames(run: failure.runID).isEmpty)
    }

    @Test func keptSamplesFollowTheSelectionRule() {
        #expect(KeptSelection.kept(scores: [0.1, 0.9, 0.5, 0.9], ratio: 0.5, labels: [], selection: .top) == [1, 3])
        #expect(KeptSelection.kept(scores: [0.1, 0.9, 0.5, 0.9], ratio: 0.25, labels: [], selection: .top) == [1, 2, 3])
        #expect(KeptSelection.kept(scores: [0.3, 0.2], ratio: 0.9, labels: [], selection: .top) == [0], "at least one sample is kept")
        // Class-balanced: round(0.5 · 3) = 2 of each class pruned, the highest kept within it (globally the top
        // three are all class 0).
        let scores = [0.9, 0.8, 0.1, 0.2, 0.7, 0.3]
        let labels = [0, 0, 1, 1, 0, 1]
        #expect(KeptSelection.kept(scores: scores, ratio: 0.5, labels: labels, selection: .top) == [0, 1, 4])
        #expect(KeptSelection.kept(scores: scores, ratio: 0.5, labels: labels, selection: .classBalanced) == [0, 5])
        // Stratified: 100 scores 0…0.99, the hardest 20% (0.80…0.99) dropped, the rest in 4 bins of 20; 12 kept,
        // 3 from each bin.
        let even = (0..<100).map { Double($0) / 100 }
        let stratified = KeptSelection.kept(
            scores: even, ratio: 0.88, labels: [], selection: .stratified, strata: 4, hardCutoff: 0.2, seed: 1)
        #expect(stratified.count == 12 && stratified.allSatisfy { $0 < 80 })
        let perBin = Dictionary(grouping: stratified, by: { min(3, Int(Double($0) / 79 * 4)) }).mapValues(\.count)
        #expect(perBin == [0: 3, 1: 3, 2: 3, 3: 3], "\(stratified)")
    }

    @Test func tableReportsRelativeAccuracyPerSeed() throws {
        let results = [
            RetrainResult(score: nil, ratio: 0, seed: 0, kept: 10, testAccuracy: 0.8, seconds: 1),
            RetrainResult(score: nil, ratio: 0, seed: 1, kept: 10, testAccuracy: 0.5, seconds: 1),
            RetrainResult(score: "a", ratio: 0.5, seed: 0, kept: 5, testAccuracy: 0.8, seconds: 1),
            RetrainResult(score: "a", ratio: 0.5, seed: 1, kept: 5, testAccuracy: 0.4, seconds: 1),
        ]
        let table = PruningResultTable(results: results, ratios: [0.5, 0.7])
        // Relative 1.0 and 0.8: mean 0.9, sample sd 0.1414.
        let cell = try #require(table.relative("a", 0.5))
        #expect(abs(cell.mean - 0.9) < 1e-12 && abs(cell.sd - 0.02.squareRoot()) < 1e-12 && cell.seeds == 2)
        #expect(table.relative("a", 0.7) == nil)
        #expect(table.markdown.contains("| a | 0.900 ± 0.141 | – |"))
        #expect(table.summaryMetrics == ["relative_accuracy.a.prune-0.50": 0.9, "full_test_accuracy": 0.65])
    }
}

/// A seeded 64-bit generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
