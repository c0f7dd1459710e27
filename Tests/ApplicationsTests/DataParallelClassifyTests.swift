import Distributed
import Foundation
import NeuralNetworks
import Testing
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// `classify` on ranks on threads against one process: same batches, gradients averaged by shard size.
@Suite struct DataParallelClassifyTests {
    /// 3 ranks, 1,438 training samples, batch 64: every full batch splits 22/21/21, so the shard-size weighting
    /// of the gradients is exercised on every step (an unweighted mean of the shard means would differ by
    /// ~7e-3, measured). Tolerance 1e-4: float rounding of the reduction order carried by AdamW over 3 epochs.
    @Test func threeRanksTrainTheSameModelAsOneProcess() throws {
        let all = try DigitsTrainingTests.digits()
        let split = HoldOutSplit(fraction: 0.2, seed: 0)
        let train = all.filter { !split.isHeldOut($0) }, test = all.filter { split.isHeldOut($0) }
        var configuration = FeatureClassifierTraining.Configuration()
        configuration.featureScale = 1.0 / 16
        configuration.epochs = 3
        configuration.hidden = [64]
        let trainer = FeatureClassifierTraining(configuration)
        let (single, singleAccuracy) = try trainer.run(train: train, test: test)
        let ranks = try InProcessGroup.run(size: 3) { c -> ([[Float]], Double) in
            let (model, accuracy) = try trainer.run(train: train, test: test, communicator: c)
            return (model.parameters().map(\.scalars), accuracy)
        }
        #expect(ranks.allSatisfy { $0.0 == ranks[0].0 && $0.1 == ranks[0].1 }, "replicas differ")
        let difference = zip(ranks[0].0, single.parameters().map(\.scalars))
            .map { a, b in zip(a, b).map { abs($0 - $1) }.max()! }.max()!
        print("classify on 3 ranks: max |Δθ| \(difference) vs one process; accuracy \(ranks[0].1) vs \(singleAccuracy)")
        #expect(difference < 1e-4)
        #expect(abs(ranks[0].1 - singleAccuracy) <= 1.0 / Double(test.count))
    }
}
