import Distributed
import Foundation
import NeuralNetworks
import Optimizers
import Recipes
import Runtime
import Tensors

/// Dense feature vectors with integer labels and stable ids.
public struct LabeledFeatures: Sendable {
    public var ids: [String]
    public var features: [[Float]]
    public var labels: [Int]
    public var classCount: Int

    public init(ids: [String], features: [[Float]], labels: [Int], classCount: Int) {
        precondition(ids.count == features.count && features.count == labels.count, "ids, features and labels differ in count")
        self.ids = ids; self.features = features; self.labels = labels; self.classCount = classCount
    }

    public var count: Int { ids.count }
    public var width: Int { features.first?.count ?? 0 }

    /// The rows at `indices` as one `[n, width]` tensor, each feature multiplied by `scale`.
    public func batch(_ indices: [Int], scale: Float = 1) -> (x: Tensor, labels: [Int]) {
        let w = width
        let x = Tensor(shape: [indices.count, w], storage: indices.flatMap { features[$0].map { $0 * scale } })
        return (x, indices.map { labels[$0] })
    }

    /// The subset whose ids satisfy `keep`.
    public func filter(_ keep: (String) -> Bool) -> LabeledFeatures {
        let rows = ids.indices.filter { keep(ids[$0]) }
        return LabeledFeatures(
            ids: rows.map { ids[$0] }, features: rows.map { features[$0] }, labels: rows.map { labels[$0] }, classCount: classCount)
    }
}

/// Errors that stop supervised training.
public enum TrainingError: Error, LocalizedError, Equatable {
    case nonFiniteLoss(epoch: Int, step: Int, firstSample: String)

    public var errorDescription: String? {
        switch self {
        case let .nonFiniteLoss(epoch, step, sample):
            "training loss is not finite at epoch \(epoch), step \(step) (batch starting with sample '\(sample)'): check the data for "
                + "NaN or infinite values, or lower the learning rate"
        }
    }
}

/// Supervised training of an MLP on dense features with Adam and a cosine schedule: the plain baseline
/// every meta-learning application is compared with.
public struct FeatureClassifierTraining: Sendable {
    public struct Configuration: Codable, Sendable, Equatable {
        public var hidden: [Int] = [256]
        public var epochs: Int = 60
        public var batchSize: Int = 64
        public var learningRate: Float = 2e-3
        public var weightDecay: Float = 1e-4
        public var featureScale: Float = 1
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Progress after each epoch.
    public struct EpochReport: Sendable {
        public var epoch: Int
        public var meanLoss: Double
        public var testAccuracy: Double
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Trains on `train`, evaluates on `test` after each epoch, and returns the model with the final accuracy.
    /// Throws `TrainingError.nonFiniteLoss` (before the bad step is applied) when a batch loss is NaN or infinite.
    ///
    /// With several ranks, each takes a strided shard of every global batch (`batchSize` is the global batch)
    /// and the gradients are averaged with a bucketed all-reduce overlapped with backward; shard gradients are
    /// weighted by shard size, so a last batch that does not split evenly still gives the global mean.
    /// Evaluation is sharded and summed; every rank returns the same model and accuracy.
    public func run(
        train: LabeledFeatures, test: LabeledFeatures, communicator: any Communicator = SingleProcessCommunicator(),
        onEpoch: (EpochReport) throws -> Void = { _ in }
    ) throws -> (model: MLP, accuracy: Double) {
        let c = configuration
        var rng = RandomGenerator(seed: c.seed)
        let model = MLP(widths: [train.width] + c.hidden + [train.classCount], rng: &rng)
        let optimizer = Adam.adamW(learningRate: c.learningRate, weightDecay: c.weightDecay)
        let parameters = model.namedParameters()
        let stepsPerEpoch = (train.count + c.batchSize - 1) / c.batchSize
        let schedule = LearningRateSchedule.cosine(totalSteps: c.epochs * stepsPerEpoch, warmupSteps: stepsPerEpoch)
        let context = ForwardContext(training: true, seed: c.seed &+ 1)
        let reducer = BucketedAllReduce(communicator: communicator, counts: parameters.map(\.tensor.count))
        var step = 0
        var accuracy = 0.0
        for epoch in 0..<c.epochs {
            let order = rng.permutation(train.count)
            var totalLoss = 0.0
            for start in stride(from: 0, to: train.count, by: c.batchSize) {
                let global = Array(order[start..<min(start + c.batchSize, train.count)])
                let rows = Sharding.strided(global, rank: communicator.rank, size: communicator.size)
                optimizer.learningRate = c.learningRate * schedule.factor(at: step)
                step += 1
                guard !rows.isEmpty else {
                    // A last batch smaller than the number of ranks: this rank contributes zeros.
                    let zeros = parameters.map { Tensor.zeros($0.tensor.shape) }
                    optimizer.step(parameters, gradients: try reducer.reduce(zeros))
                    continue
                }
                let (x, labels) = train.batch(rows, scale: c.featureScale)
                let loss = Loss.meanCrossEntropy(model(x, context), labels: labels)
                guard loss.item.isFinite else {
                    throw TrainingError.nonFiniteLoss(epoch: epoch + 1, step: step, firstSample: train.ids[rows[0]])
                }
                reducer.begin(scale: Float(rows.count * communicator.size) / Float(global.count))
                let grads = Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor), onGradientReady: reducer.gradientReady)
                optimizer.step(parameters, gradients: try reducer.finish(like: grads))
                totalLoss += Double(loss.item) * Double(labels.count)
            }
            totalLoss = try communicator.sum([totalLoss])[0]
            accuracy = try evaluate(model, on: test, communicator: communicator)
            if communicator.isDistributed {
                // Replicas must stay bit-identical: compare θ and optimizer state once per epoch.
                let state = optimizer.stateDictionary()
                let checksum = ReplicaCheck.checksum(parameters.map(\.tensor) + state.keys.sorted().map { state[$0]! })
                try ReplicaCheck.verify(checksum, step: step, what: "model and optimizer state", communicator: communicator)
            }
            try onEpoch(EpochReport(epoch: epoch + 1, meanLoss: totalLoss / Double(train.count), testAccuracy: accuracy))
        }
        return (model, accuracy)
    }

    /// Accuracy of `model` on `data` (no dropout, no recording); with several ranks each scores a block of
    /// `data` and the counts are summed.
    public func evaluate(
        _ model: MLP, on data: LabeledFeatures, communicator: any Communicator = SingleProcessCommunicator()
    ) throws -> Double {
        let block = Sharding.block(count: data.count, rank: communicator.rank, size: communicator.size)
        let correct = withoutGrad {
            var correct = 0.0
            for start in stride(from: block.lowerBound, to: block.upperBound, by: 512) {
                let (x, labels) = data.batch(Array(start..<min(start + 512, block.upperBound)), scale: configuration.featureScale)
                correct += Loss.accuracy(model(x, .evaluation()), labels: labels) * Double(labels.count)
            }
            return correct
        }
        let total = try communicator.sum([correct])[0]
        return data.count == 0 ? 0 : total / Double(data.count)
    }
}
