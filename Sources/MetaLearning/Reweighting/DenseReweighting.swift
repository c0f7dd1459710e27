import Distributed
import Foundation
import NeuralNetworks
import Optimizers
import Tensors

/// Dense features with (possibly noisy) integer labels.
public struct DenseClassificationData: Sendable {
    /// `[N, D]` features, or `[N, C, H, W]` images.
    public var features: Tensor
    public var labels: [Int]
    public var classCount: Int

    public init(features: Tensor, labels: [Int], classCount: Int) {
        precondition(features.rank >= 2 && features.shape[0] == labels.count, "features \(features.shape) vs \(labels.count) labels")
        self.features = features; self.labels = labels; self.classCount = classCount
    }

    public var count: Int { labels.count }

    public func rows(_ indices: [Int]) -> (x: Tensor, labels: [Int]) {
        (features.indexSelect(indices), indices.map { labels[$0] })
    }
}

/// Meta-Weight-Net reweighting of a classifier on dense features: the base loss weights each sample's
/// cross-entropy by w = MWN(ℓ) (ℓ detached); the meta loss is the cross-entropy on a clean batch.
public final class DenseReweightingProgram: BilevelProgram {
    public struct Batch { public var indices: [Int] }

    public let model: MLP
    public let weightNet: MetaWeightNet
    public let train: DenseClassificationData
    public let clean: DenseClassificationData
    public let normalization: WeightNormalization
    public let base: Level
    public let meta: Level
    /// Plain training: every sample weighs 1 and the weight net is not used (the `finetune` baseline).
    public var uniformWeights = false
    /// Base batches (this rank's shard of each global batch) and whole meta batches (`Engine+Distributed.swift`).
    public var batches: BatchStreams

    public init(
        model: MLP, weightNet: MetaWeightNet, train: DenseClassificationData, clean: DenseClassificationData,
        baseOptimizer: any Optimizer, metaOptimizer: any Optimizer, batchSize: Int, metaBatchSize: Int,
        normalization: WeightNormalization, seed: UInt64
    ) {
        self.model = model; self.weightNet = weightNet; self.train = train; self.clean = clean
        self.normalization = normalization
        base = Level(name: "base", parameters: model.namedParameters(), optimizer: baseOptimizer)
        meta = Level(name: "meta", parameters: weightNet.namedParameters(), optimizer: metaOptimizer)
        batches = BatchStreams(
            trainCount: train.count, batchSize: batchSize, metaCount: clean.count,
            metaBatchSize: metaBatchSize, seed: seed)
    }

    /// Trains as rank `rank` of `size` (`BatchStreams.shard(rank:of:)`).
    public func shard(rank: Int, of size: Int) throws { try batches.shard(rank: rank, of: size) }

    public func nextBaseBatch() -> Batch { Batch(indices: batches.nextBase()) }
    public func nextMetaBatch() -> Batch { Batch(indices: batches.nextMeta()) }

    public func baseLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let (x, labels) = train.rows(batch.indices)
        let losses = Loss.crossEntropy(model(x, context), labels: labels)
        if uniformWeights { return losses.mean() }
        let weights = weightNet(context.metaInput(losses.reshaped([labels.count, 1])))
        return normalization.combine(losses: losses, weights: weights)
    }

    public func metaLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let (x, labels) = clean.rows(batch.indices)
        return Loss.meanCrossEntropy(model(x, context), labels: labels)
    }

    /// The current weight of every training sample (from its current loss), without recording.
    public func sampleWeights() -> [Float] { weights(of: 0..<train.count) }

    /// Every training sample's current weight, each rank scoring a block and rank 0 gathering them (nil on
    /// the other ranks): the sharded form of `sampleWeights()`.
    public func sampleWeights(communicator: any Communicator) throws -> [Float]? {
        let block = Sharding.block(count: train.count, rank: communicator.rank, size: communicator.size)
        return try communicator.gatherSamples(indices: Array(block), values: weights(of: block))?.map(\.value)
    }

    private func weights(of range: Range<Int>) -> [Float] {
        if uniformWeights { return [Float](repeating: 1, count: range.count) }
        return withoutGrad {
            var weights: [Float] = []
            for start in stride(from: range.lowerBound, to: range.upperBound, by: 1024) {
                let (x, labels) = train.rows(Array(start..<min(start + 1024, range.upperBound)))
                let losses = Loss.crossEntropy(model(x, .evaluation()), labels: labels)
                weights += weightNet(losses.reshaped([labels.count, 1])).scalars
            }
            return weights
        }
    }

    /// Mean current weight of the samples not flagged and of those flagged (e.g. corrupted labels).
    public func meanWeights(flagged: [Bool]) -> (unflagged: Double, flagged: Double) {
        precondition(flagged.count == train.count, "meanWeights: \(flagged.count) flags for \(train.count) samples")
        var sums = (0.0, 0.0), counts = (0.0, 0.0)
        for (w, isFlagged) in zip(sampleWeights(), flagged) {
            if isFlagged { sums.1 += Double(w); counts.1 += 1 } else { sums.0 += Double(w); counts.0 += 1 }
        }
        return (sums.0 / max(counts.0, 1), sums.1 / max(counts.1, 1))
    }

    /// Accuracy of the base model on `data`.
    public func accuracy(on data: DenseClassificationData) -> Double {
        correctPredictions(on: data, in: 0..<data.count) / Double(max(data.count, 1))
    }

    /// Accuracy of the base model on `data`, each rank scoring a block and the counts summed (the same result
    /// on every rank): the sharded form of `accuracy(on:)`.
    public func accuracy(on data: DenseClassificationData, communicator: any Communicator) throws -> Double {
        let block = Sharding.block(count: data.count, rank: communicator.rank, size: communicator.size)
        return try communicator.sum([correctPredictions(on: data, in: block)])[0] / Double(max(data.count, 1))
    }

    private func correctPredictions(on data: DenseClassificationData, in block: Range<Int>) -> Double {
        withoutGrad {
            var correct = 0.0
            for start in stride(from: block.lowerBound, to: block.upperBound, by: 1024) {
                let (x, labels) = data.rows(Array(start..<min(start + 1024, block.upperBound)))
                correct += Loss.accuracy(model(x, .evaluation()), labels: labels) * Double(labels.count)
            }
            return correct
        }
    }
}

extension DenseReweightingProgram: ResumableProgram {
    public func dataState() throws -> Data { try batches.state() }
    public func restoreDataState(_ data: Data) throws { try batches.restore(data) }
}
