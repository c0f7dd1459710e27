import Foundation
import MetaLearning
import ResultStore
import Testing
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// The same-data baselines (clean samples weighted in the base loss, weak then clean), the label-quality score
/// and weights for every training sample.
@Suite struct NoisyLabelBaselineTests {
    typealias App = NoisyLabelApplicationTests

    @Test func balancedCleanWeightGivesBothSetsTheSameTotal() {
        #expect(MetaSplitWeight.balanced.multiplier(weakCount: 240, cleanCount: 80) == 3)
        #expect(MetaSplitWeight.fixed(2.5).multiplier(weakCount: 240, cleanCount: 80) == 2.5)
    }

    @Test func twoPhaseStreamsDrawWeakRowsThenCleanRowsAndResume() throws {
        var streams = PhasedBatchStreams(
            phaseOneCount: 240, cleanRows: 240..<320, phaseOneSteps: 30, batchSize: 16, metaCount: 80, metaBatchSize: 16,
            seed: 5, rank: 0, worldSize: 1)
        let first = (0..<30).map { _ in streams.nextBase() }
        #expect(first.allSatisfy { $0.count == 16 && $0.allSatisfy { $0 < 240 } })
        let saved = try streams.state()
        let second = (0..<12).map { _ in streams.nextBase() }
        #expect(second.allSatisfy { $0.count == 16 && $0.allSatisfy { (240..<320).contains($0) } })
        // Five clean batches make an epoch of the 80 clean rows: each row once.
        #expect(Set(second.prefix(5).joined()).count == 80)
        var resumed = PhasedBatchStreams(
            phaseOneCount: 240, cleanRows: 240..<320, phaseOneSteps: 30, batchSize: 16, metaCount: 80, metaBatchSize: 16,
            seed: 5, rank: 0, worldSize: 1)
        try resumed.restore(saved)
        #expect((0..<12).map { _ in resumed.nextBase() } == second)
    }

    @Test func weakThenCleanTrainsTheLastEpochsOnTheCleanRows() throws {
        try App.withToyArchive { archive, directory in
            let (outcome, store) = try App.run(["meta.method=finetune", "training.clean_epochs=1"], archive: archive, directory: directory)
            #expect(outcome.summary.metrics["train_samples"] == 320, "the clean rows join the training data")
            #expect(try store.sampleKeys(run: outcome.runID).last == "valid/valid-79")
            #expect(outcome.summary.metrics["valid_accuracy"].map { $0 > 0.9 } == true, "the last epoch fits the clean rows")
            // The last epoch's loss is over the clean rows' gold labels, so it falls below weak-only training's, whose
            // last epoch still fits 20% wrong weak labels.
            let (weakOnly, _) = try App.run(["meta.method=finetune"], archive: archive, directory: directory)
            let clean = try #require(outcome.summary.metrics["train_loss"]), weak = try #require(weakOnly.summary.metrics["train_loss"])
            #expect(clean < weak, "train loss \(clean) after a clean epoch vs \(weak) on weak labels only")
            #expect(throws: (any Error).self) {
                try App.run(["meta.method=finetune", "training.clean_epochs=3"], archive: archive, directory: directory)
            }
        }
    }

    @Test func cleanSamplesWeightedInTheBaseLoss() throws {
        try App.withToyArchive { archive, directory in
            let settings = ["meta.method=finetune", "dataset.train_on_meta_split=true"]
            let (balanced, _) = try App.run(settings + ["dataset.meta_split_weight=balanced"], archive: archive, directory: directory)
            let (once, _) = try App.run(settings, archive: archive, directory: directory)
            let a = try #require(balanced.summary.metrics["train_loss"]), b = try #require(once.summary.metrics["train_loss"])
            #expect(a != b, "weighting the clean rows changes training")
            do {
                _ = try App.run(settings + ["dataset.meta_split_weight=-2"], archive: archive, directory: directory)
                Issue.record("a negative clean weight must be refused")
            } catch {
                #expect("\(error.localizedDescription)".contains("dataset.meta_split_weight"), "\(error.localizedDescription)")
            }
        }
    }

    @Test func everySampleGetsAWeightAndALabelQuality() throws {
        let directory = try App.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("toy.tar.gz").path
        // 250 samples in batches of 16: 15 batches an epoch, the last 10 samples are not drawn.
        try App.writeArchive(to: archive, trainCount: 250)
        let (outcome, store) = try App.run(["meta.method=sama"], archive: archive, directory: directory)
        #expect(try store.weights(run: outcome.runID, step: 3).count == 250)
        #expect(try store.scoreSteps(run: outcome.runID, name: "label_quality") == [1, 2, 3])
        let first = try store.scores(run: outcome.runID, name: "label_quality", step: 1)
        let second = try store.scores(run: outcome.runID, name: "label_quality", step: 2)
        #expect(first.count == 250 && second.count == 250)
        // A running mean of probabilities: epoch 2's own value 2·q₂ − q₁ is a probability too.
        let byID = Dictionary(uniqueKeysWithValues: first.map { ($0.sampleID, $0.score) })
        #expect(
            second.allSatisfy {
                let p = 2 * $0.score - byID[$0.sampleID]!; return p > -1e-6 && p < 1 + 1e-6
            })
        let auc = try #require(outcome.summary.metrics["label_issue_auc"])
        #expect(auc > 0.5, "on the toy data the wrong weak labels are the ones the model disagrees with: \(auc)")
        #expect(try store.labels(run: outcome.runID).count == 250, "a suggested label for every sample")
        #expect(outcome.summary.notes.contains { $0.contains("labels --run \(outcome.runID) --issues") })
    }

    @Test func correctionIsUsedOnlyWhereItFixesMoreThanItBreaksOnTheMetaSet() throws {
        try App.withToyArchive { archive, directory in
            let (outcome, store) = try App.run(["meta.method=sama", "meta.correct=true"], archive: archive, directory: directory)
            let m = outcome.summary.metrics
            let fixed = try #require(m["meta_set_corrections_fixed"]), broken = try #require(m["meta_set_corrections_broken"])
            let on = try #require(m["correction_on"])
            #expect(on == (fixed > broken ? 1 : 0))
            #expect(outcome.summary.notes.contains { $0.hasPrefix("label correction is \(on == 1 ? "on" : "off")") })
            #expect(m["labels_fixed"] != nil, "MLC's own outcome on the training set is reported either way")
            #expect((m["suggestions_fixed"] != nil) == (on == 0), "predictions become the suggestions when correction is off")
            #expect(try store.labels(run: outcome.runID).count == 240)
        }
    }
}
