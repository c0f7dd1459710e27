import Foundation
import MetaLearning
import NeuralNetworks
import Testing
import WinnowTestSupport
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime
@testable import Tensors

/// The label net fitted to the clean split before meta learning (`meta.label_net_fit_epochs`), reading frozen
/// sentence embeddings (`meta.label_net_input: sentence_embedding`).
@Suite struct LabelNetFitTests {
    /// 200 samples whose gold label is the sign of the first of 8 features; the weak label is gold with 30% flipped.
    static func problem() -> (features: Tensor, weak: Tensor, gold: [Int]) {
        var rng = RandomGenerator(seed: 21)
        let n = 200, width = 8
        let features = Tensor.normal([n, width], std: 1, using: &rng)
        let gold = (0..<n).map { features.scalars[$0 * width] > 0 ? 1 : 0 }
        var weak = [Float](repeating: 0, count: n * 2)
        for i in 0..<n { weak[i * 2 + (rng.uniform() < 0.3 ? 1 - gold[i] : gold[i])] = 1 }
        return (features, Tensor(shape: [n, 2], storage: weak), gold)
    }

    static func fitted(seed: UInt64 = 5, maxEpochs: Int = 12) -> (LabelCorrectionNet, LabelNetFit.Outcome) {
        let (features, weak, gold) = problem()
        var rng = RandomGenerator(seed: 1)
        let net = LabelCorrectionNet(featureWidth: 8, classes: 2, gated: false, rng: &rng)
        let fit = try! LabelNetFit(features: features, weakTargets: weak, gold: gold, maxEpochs: maxEpochs, learningRate: 3e-3)
        let outcome = fit.fit(net, seed: seed) { LabelCorrectionNet(featureWidth: 8, classes: 2, gated: false, rng: &$0) }
        return (net, outcome)
    }

    @Test func crossValidationPicksTheEpochWithTheLowestHeldOutLossAndTheNetLearnsTheGoldLabel() {
        let (features, weak, gold) = Self.problem()
        let (net, outcome) = Self.fitted()
        #expect(outcome.heldOutLoss.count == 12 && outcome.heldOutLoss.allSatisfy(\.isFinite))
        #expect(outcome.heldOutLoss[outcome.epochs - 1] == outcome.heldOutLoss.min())
        #expect(outcome.heldOutLabels.count == 200)
        // Held out, the net reads the feature rather than copying the 70%-right weak label.
        #expect(Loss.accuracy(predictions: outcome.heldOutLabels, labels: gold) > 0.85)
        let corrected = withoutGrad { net(features: features, weakLabels: weak).argmaxLastAxis() }
        #expect(Loss.accuracy(predictions: corrected, labels: gold) > 0.9)
    }

    @Test func theCrossValidationStopsOnceTheHeldOutLossHasNotImprovedForThePatience() throws {
        let (features, weak, gold) = Self.problem()
        var rng = RandomGenerator(seed: 1)
        let net = LabelCorrectionNet(featureWidth: 8, classes: 2, gated: false, rng: &rng)
        let fit = try LabelNetFit(features: features, weakTargets: weak, gold: gold, maxEpochs: 500, learningRate: 3e-2, patience: 5)
        let outcome = fit.fit(net, seed: 5) { LabelCorrectionNet(featureWidth: 8, classes: 2, gated: false, rng: &$0) }
        // At this rate the held-out loss bottoms out early; the run stops 5 epochs after its lowest point.
        #expect(outcome.heldOutLoss.count < 500)
        #expect(outcome.heldOutLoss.count == outcome.epochs + 5)
        #expect(outcome.heldOutLoss[outcome.epochs - 1] == outcome.heldOutLoss.min())
    }

    @Test func theSameSeedGivesTheSameNet() {
        let (first, a) = Self.fitted(), (second, b) = Self.fitted()
        #expect(a == b)
        #expect(first.namedParameters().map(\.tensor.scalars) == second.namedParameters().map(\.tensor.scalars))
        #expect(Self.fitted(seed: 6).1.heldOutLoss != a.heldOutLoss)
    }

    @Test func aCleanSplitSmallerThanTheFoldsIsAnErrorNamingTheKey() {
        let (features, weak, gold) = Self.problem()
        let rows = [0, 1, 2, 3]
        #expect(throws: LabelNetFitError.tooFewCleanSamples(count: 4, folds: 5)) {
            try LabelNetFit(
                features: features.indexSelect(rows), weakTargets: weak.indexSelect(rows), gold: rows.map { gold[$0] }, maxEpochs: 3,
                learningRate: 1e-3)
        }
        #expect(LabelNetFitError.tooFewCleanSamples(count: 4, folds: 5).localizedDescription.contains("meta.label_net_fit_epochs"))
    }

    @Test func settingsThatCannotApplyAreErrorsNamingTheKey() throws {
        func key(_ change: (inout NoisyLabelsApplication.Config) -> Void) -> String? {
            var config = NoisyLabelsApplication.Config()
            change(&config)
            do { try config.validate() } catch let error as InvalidSetting { return error.key } catch { return "\(error)" }
            return nil
        }
        #expect(key { $0.meta.correct = true; $0.meta.labelNetFitEpochs = 5 } == "meta.label_net_fit_epochs")
        #expect(key { $0.meta.labelNetInput = .sentenceEmbedding } == "meta.label_net_input")
        #expect(key { $0.meta.correct = true; $0.meta.labelNetInput = .sentenceEmbedding; $0.meta.labelNetFitEpochs = 5_000 }
            == "meta.label_net_fit_epochs")
        #expect(key { $0.meta.correct = true; $0.meta.labelNetInput = .sentenceEmbedding; $0.meta.labelNetFitEpochs = 5 } == nil)
    }
}

/// A whole run with the fitted label net on the toy archive (needs the MiniLM encoder for the embeddings).
@Suite(.tags(.miniLM), .needsMiniLM) struct FittedLabelNetRunTests {
    typealias Toy = NoisyLabelApplicationTests
    static let fitted = [
        "model.max_length=32", "meta.correct=true", "meta.gate=false", "meta.label_net_input=sentence_embedding",
        "meta.label_net_fit_epochs=6",
    ]

    @Test func finetuneKeepsTheFittedNetAndSamaRefinesIt() throws {
        try Toy.withToyArchive { archive, directory in
            let (kept, _) = try Toy.run(Self.fitted + ["meta.method=finetune"], archive: archive, directory: directory)
            let m = kept.summary.metrics
            let epochs = try #require(m["label_net_fit_epochs"])
            #expect((1...6).contains(Int(epochs)))
            #expect(m["label_net_held_out_accuracy"].map { $0 > 0.5 && $0 <= 1 } == true)
            #expect(m["meta_steps"] == 0)
            // The plan, decided before training from the fit's held-out corrections, covers both groups of samples: where
            // correction is off for decisively voted samples, they train on (and report) their weak labels unchanged.
            let on = try #require(m["correction_on"]), fixed = try #require(m["labels_fixed_count"])
            #expect(m["correction_on_unvoted"] != nil && m["meta_set_corrections_fixed"] != nil)
            if on == 1 {
                #expect(fixed > 0)
            } else {
                #expect(fixed == 0 && m["labels_broken_count"] == 0)
            }
            #expect(kept.summary.notes.contains { $0.contains("held out in the label net's cross-validation") })

            let (refined, _) = try Toy.run(Self.fitted + ["meta.method=sama"], archive: archive, directory: directory)
            #expect(refined.summary.metrics["label_net_fit_epochs"] == epochs, "the same seed fits the same net")
            #expect(refined.summary.metrics["meta_steps"].map { $0 > 0 } == true)
        }
    }

    /// Under two ranks every rank fits the same net and reads the label-net inputs of its shard's global rows, so
    /// training on the fitted net's labels follows one process as plain fine-tuning does.
    @Test func twoRanksFitTheSameNetAndTrainLikeOneProcess() throws {
        try Toy.withToyArchive { archive, directory in
            let overrides = Self.fitted + ["meta.method=finetune", "model.dropout=0"]
            func run(_ ranks: Int) throws -> [RunOutcome] {
                try DataParallelNoisyLabelTests.runOnRanks(
                    ranks, overrides, archive: archive, directory: directory,
                    db: directory.appendingPathComponent("ranks-\(ranks).sqlite").path)
            }
            let one = try run(1)[0].summary.metrics, two = try run(2)
            #expect(two[0].summary.metrics["label_net_fit_epochs"] == one["label_net_fit_epochs"])
            #expect(two[1].summary.metrics["label_net_held_out_accuracy"] == one["label_net_held_out_accuracy"])
            let a = try #require(one["test_accuracy"]), b = try #require(two[0].summary.metrics["test_accuracy"])
            #expect(abs(a - b) <= 1.0 / 60 + 1e-9)
            #expect(abs((one["test_loss"] ?? 0) - (two[0].summary.metrics["test_loss"] ?? 1)) < 1e-3)
        }
    }

    /// A fitted run that fails in epoch 2 resumes from its checkpoint (the label net is fitted again from the same
    /// seed, then restored from the checkpoint) and ends where an uninterrupted run ends.
    @Test func aFittedRunResumesToTheSameResult() throws {
        try Toy.withToyArchive { archive, directory in
            let recipe = directory.appendingPathComponent("recipe.yaml").path
            try "application: noisy-labels\nseed: 3\n".write(toFile: recipe, atomically: true, encoding: .utf8)
            let overrides = Toy.smallRun(archive: archive) + Self.fitted + ["meta.method=sama"]
            func request(_ name: String) -> RunRequest {
                RunRequest(recipePath: recipe, overrides: overrides, databasePath: directory.appendingPathComponent(name).path)
            }
            let straight = try ApplicationRunner.run(request("a.sqlite"), registry: .builtIn)
            var failing = request("b.sqlite")
            failing.injectedFault = (rank: 0, step: 2)
            #expect(throws: ApplicationFailure.self) { try ApplicationRunner.run(failing, registry: .builtIn) }
            var resume = RunRequest(recipePath: "", databasePath: failing.databasePath)
            resume.resumeRunID = 1
            let resumed = try ApplicationRunner.run(resume, registry: .builtIn)
            for key in ["test_accuracy", "test_loss", "labels_fixed_count", "labels_broken_count", "label_net_fit_epochs",
                "meta_set_corrections_fixed", "correction_on", "label_issue_auc"]
            {
                #expect(resumed.summary.metrics[key] == straight.summary.metrics[key], "\(key) differs after resuming")
            }
        }
    }
}
