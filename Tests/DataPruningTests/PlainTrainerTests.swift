import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import DataPruning

/// Plain training: learns, is reproducible from its seed, trains on subsets, reports per-batch logits.
@Suite struct PlainTrainerTests {
    /// Two Gaussian blobs of 2×2 "images" (class = sign of the mean pixel), 64 samples.
    func blobs(seed: UInt64, count: Int = 64) -> ImageSplit {
        var rng = RandomGenerator(seed: seed)
        var pixels: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            let label = i % 2
            for _ in 0..<4 { pixels.append((label == 0 ? -1.5 : 1.5) + rng.normal()) }
            labels.append(label)
        }
        return ImageSplit(
            name: "train", images: Tensor(shape: [count, 1, 2, 2], storage: pixels), labels: labels,
            ids: (0..<count).map { "s\($0)" })
    }

    func train(
        seed: UInt64, optimizer: PlainTrainingSettings.OptimizerChoice, subset: [Int]? = nil,
        onBatch: ((BatchPresentation) -> Void)? = nil
    ) throws -> (MLP, [PlainEpochReport]) {
        var rng = RandomGenerator(seed: seed)
        let model = MLP(widths: [4, 8, 2], rng: &rng)
        let settings = PlainTrainingSettings(epochs: 5, batchSize: 16, optimizer: optimizer, schedule: .cosine(), seed: seed)
        let reports = try PlainTrainer(model: model, settings: settings).train(on: blobs(seed: 1), subset: subset, onBatch: onBatch)
        return (model, reports)
    }

    @Test(arguments: [
        PlainTrainingSettings.OptimizerChoice.sgd(learningRate: 0.1),
        .adam(learningRate: 0.02, weightDecay: 1e-4),
    ])
    func learnsAndIsReproducible(optimizer: PlainTrainingSettings.OptimizerChoice) throws {
        let (model, reports) = try train(seed: 3, optimizer: optimizer)
        #expect(reports.count == 5)
        #expect(reports.last!.meanLoss < reports.first!.meanLoss)
        #expect(Evaluation.accuracy(model, on: blobs(seed: 2)) > 0.9)
        let (_, again) = try train(seed: 3, optimizer: optimizer)
        #expect(again.map(\.meanLoss) == reports.map(\.meanLoss))
        let (_, other) = try train(seed: 4, optimizer: optimizer)
        #expect(other.map(\.meanLoss) != reports.map(\.meanLoss))
    }

    @Test func subsetTrainingPresentsOnlyTheSubsetEveryEpoch() throws {
        let subset = Array(stride(from: 0, to: 64, by: 2))  // 32 samples, 2 batches of 16 per epoch
        var dynamics = TrainingDynamics(count: 64)
        var epochs: [Int] = []
        _ = try train(seed: 1, optimizer: .sgd(learningRate: 0.1), subset: subset) { batch in
            dynamics.record(batch)
            epochs.append(batch.epoch)
            #expect(batch.logits.shape == [16, 2])
        }
        #expect(epochs == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
        #expect(dynamics.presentations == (0..<64).map { $0 % 2 == 0 ? 5 : 0 })
    }

    @Test func badSettingsAndSubsetsAreErrors() throws {
        var rng = RandomGenerator(seed: 0)
        let model = MLP(widths: [4, 2], rng: &rng)
        #expect(throws: PlainTrainingError.invalidSetting("SGD learning rate must be positive, got 0.0")) {
            try PlainTrainer(model: model, settings: PlainTrainingSettings(epochs: 1, optimizer: .sgd(learningRate: 0)))
        }
        #expect(throws: PlainTrainingError.invalidSetting("epochs must be at least 1, got 0")) {
            try PlainTrainer(model: model, settings: PlainTrainingSettings(epochs: 0))
        }
        let trainer = try PlainTrainer(model: model, settings: PlainTrainingSettings(epochs: 1, batchSize: 4))
        #expect(throws: PlainTrainingError.badSubset("index 64 outside the split's 64 samples")) {
            try trainer.train(on: blobs(seed: 1), subset: [0, 64])
        }
        #expect(throws: PlainTrainingError.badSubset("no samples to train on")) { try trainer.train(on: blobs(seed: 1), subset: []) }
    }

    @Test func earlyTrainingScoresAverageOverSeeds() throws {
        let split = blobs(seed: 1, count: 32)
        let training = PlainTrainingSettings(epochs: 4, batchSize: 8, optimizer: .sgd(learningRate: 0.05))
        func model(_ seed: UInt64) -> any ImageClassifier {
            var rng = RandomGenerator(seed: seed)
            return MLP(widths: [4, 6, 2], rng: &rng)
        }
        let one = try EarlyTrainingScores(training: training, scoringEpoch: 1, seeds: [7]).scores(on: split, makeModel: model)
        let two = try EarlyTrainingScores(training: training, scoringEpoch: 1, seeds: [8]).scores(on: split, makeModel: model)
        let both = try EarlyTrainingScores(training: training, scoringEpoch: 1, seeds: [7, 8]).scores(on: split, makeModel: model)
        for i in 0..<split.count {
            #expect(abs(both.el2n[i] - (one.el2n[i] + two.el2n[i]) / 2) < 1e-9)
            #expect(abs(both.grand![i] - (one.grand![i] + two.grand![i]) / 2) < 1e-9)
        }
        // At initialisation nothing is trained: EL2N is that of the fresh model.
        let initial = try EarlyTrainingScores(training: training, scoringEpoch: 0, seeds: [7]).scores(
            on: split, gradientNorms: false,
            makeModel: model)
        #expect(initial.grand == nil)
        #expect(initial.el2n == LogitScores.el2n(logits: Evaluation.logits(model(7), on: split), labels: split.labels))
        #expect(throws: PlainTrainingError.self) {
            try EarlyTrainingScores(training: training, scoringEpoch: 5, seeds: [7]).scores(on: split, makeModel: model)
        }
    }

    @Test func trainingRunScoresComeFromOneRun() throws {
        let split = blobs(seed: 1, count: 32)
        var rng = RandomGenerator(seed: 2)
        let model = MLP(widths: [4, 6, 2], rng: &rng)
        let trainer = try PlainTrainer(
            model: model,
            settings: PlainTrainingSettings(
                epochs: 3, batchSize: 8,
                optimizer: .sgd(learningRate: 0.05)))
        let scores = try TrainingRunScores.compute(trainer, on: split)
        #expect(Set(scores.keys) == [.forgetting, .aum, .margin, .leastConfidence])
        #expect(scores.values.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isFinite) })
        // Margin and least confidence are those of the trained model.
        let logits = Evaluation.logits(model, on: split)
        #expect(scores[.margin] == LogitScores.negatedMargin(logits: logits, labels: split.labels))
        #expect(scores[.leastConfidence] == LogitScores.leastConfidence(logits: logits, labels: split.labels))
        // 3 epochs of 4 batches present every sample 3 times; AUM is minus the mean logit margin over them.
        #expect(scores[.forgetting]!.allSatisfy { $0 <= 4 })
    }
}
