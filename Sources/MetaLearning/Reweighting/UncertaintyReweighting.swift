import Foundation
import NeuralNetworks
import Optimizers
import Tensors

/// Data-pruning reweighting as a bilevel program (docs/ALGORITHMS.md §8):
///     L_base = Σᵢ wᵢ·ℓᵢ / Σᵢ wᵢ (or / N),   wᵢ = σ(MLP([ℓᵢ, uᵢ])),   MLP 2 → 100 → 1,
///     L_meta = mean cross-entropy on a separately drawn batch of the same training data,
/// where ℓᵢ is the detached cross-entropy of sample i and uᵢ = KL(p_avg ‖ p_live) the disagreement between the
/// live model's prediction and that of its exponential moving average (`ModelAverage`), also detached. There is
/// no clean set: the meta problem asks which samples' weights make the model fit the training data itself.
///
/// The caller updates the average after every optimizer step (`updateAverage()`, from an engine observer of
/// `.baseStep`). The average's logits on a batch do not depend on θ, so they are computed once per batch and
/// reused by SAMA's perturbed passes on the same batch.
public final class UncertaintyReweightingProgram<Model: Module>: BilevelProgram, ResumableProgram {
    public struct Batch: Sendable { public var indices: [Int] }

    public let model: Model
    public let average: ModelAverage<Model>
    public let weightNet: MetaWeightNet
    public let data: DenseClassificationData
    public let normalization: WeightNormalization
    public let base: Level
    public let meta: Level
    public var batches: BatchStreams
    /// The model's logits `[n, classes]` for inputs as stored in `data` (rows of `features`).
    private let logits: @Sendable (Model, Tensor, ForwardContext) -> Tensor
    /// The samples and weights of the latest `baseLoss` (for per-epoch weight means).
    public private(set) var lastWeights: (indices: [Int], weights: [Float])?
    private var cachedAverageLogits: (indices: [Int], updates: Int, logits: Tensor)?

    /// - Parameters:
    ///   - averageModel: a second instance of the architecture; it becomes the moving average (decay `averageDecay`).
    ///   - logits: the model's forward from rows of `data.features` (reshape there if the model needs it).
    public init(model: Model, averageModel: Model, averageDecay: Float, weightNet: MetaWeightNet,
                data: DenseClassificationData, baseOptimizer: any Optimizer, baseSchedule: LearningRateSchedule,
                metaOptimizer: any Optimizer, batchSize: Int, metaBatchSize: Int, normalization: WeightNormalization,
                seed: UInt64, rank: Int = 0, worldSize: Int = 1,
                logits: @escaping @Sendable (Model, Tensor, ForwardContext) -> Tensor) {
        self.model = model
        average = ModelAverage(of: model, into: averageModel, decay: averageDecay)
        self.weightNet = weightNet
        self.data = data
        self.normalization = normalization
        self.logits = logits
        base = Level(name: "base", parameters: model.namedParameters(), optimizer: baseOptimizer, schedule: baseSchedule)
        meta = Level(name: "meta", parameters: weightNet.namedParameters(), optimizer: metaOptimizer)
        batches = BatchStreams(trainCount: data.count, batchSize: batchSize, metaCount: data.count, metaBatchSize: metaBatchSize,
                               seed: seed, rank: rank, worldSize: worldSize)
    }

    public func nextBaseBatch() -> Batch { Batch(indices: batches.nextBase()) }
    public func nextMetaBatch() -> Batch { Batch(indices: batches.nextMeta()) }

    /// average ← decay·average + (1 − decay)·model; call after every optimizer step.
    public func updateAverage() { average.update() }

    /// The per-sample statistics `[n, 2]` = [ℓ, u] the weight net reads, from live logits (detached here).
    /// `inputs`: the rows' inputs when the caller has them (saves gathering them again for the average).
    public func statistics(indices: [Int], liveLogits: Tensor, labels: [Int], inputs: Tensor? = nil) -> Tensor {
        withoutGrad {
            let losses = Loss.crossEntropy(liveLogits, labels: labels)
            let uncertainty = PredictionDisagreement.kl(liveLogits: liveLogits, averageLogits: averageLogits(indices, inputs: inputs))
            return Tensor.concatenate([losses.reshaped([indices.count, 1]), uncertainty.reshaped([indices.count, 1])], axis: 1)
        }
    }

    public func baseLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let (x, labels) = data.rows(batch.indices)
        let output = logits(model, x, context)
        let losses = Loss.crossEntropy(output, labels: labels)
        let weights = weightNet(context.metaInput(statistics(indices: batch.indices, liveLogits: output, labels: labels, inputs: x)))
        lastWeights = (batch.indices, weights.scalars)
        return normalization.combine(losses: losses, weights: weights)
    }

    public func metaLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let (x, labels) = data.rows(batch.indices)
        return Loss.meanCrossEntropy(logits(model, x, context), labels: labels)
    }

    /// The average's logits on these rows (evaluation mode), cached for the batch until the average changes.
    private func averageLogits(_ indices: [Int], inputs: Tensor?) -> Tensor {
        if let cached = cachedAverageLogits, cached.indices == indices, cached.updates == average.updates { return cached.logits }
        let value = withoutGrad { logits(average.average, inputs ?? data.rows(indices).x, .evaluation()) }
        cachedAverageLogits = (indices, average.updates, value)
        return value
    }

    /// Each sample's current weight, from its current loss and uncertainty (evaluation mode), for rows `range`.
    public func currentWeights(rows range: Range<Int>, batchSize: Int = 512) -> [Float] {
        withoutGrad {
            var weights: [Float] = []
            for start in stride(from: range.lowerBound, to: range.upperBound, by: batchSize) {
                let indices = Array(start..<min(start + batchSize, range.upperBound))
                let (x, labels) = data.rows(indices)
                let output = logits(model, x, .evaluation())
                cachedAverageLogits = nil
                weights += weightNet(statistics(indices: indices, liveLogits: output, labels: labels, inputs: x)).scalars
            }
            return weights
        }
    }

    public func dataState() throws -> Data { try batches.state() }
    public func restoreDataState(_ data: Data) throws { try batches.restore(data) }

    /// The moving average and the live model's buffers (BatchNorm running statistics): neither is in θ.
    public func stateTensors() -> [String: Tensor] {
        var tensors = average.stateTensors(prefix: "average.")
        for (key, t) in model.namedTensors() where !t.requiresGrad { tensors["buffers." + key] = t.detached() }
        return tensors
    }

    public func restoreStateTensors(_ tensors: [String: Tensor]) throws {
        try average.restore(tensors, prefix: "average.")
        for (key, t) in model.namedTensors() where !t.requiresGrad {
            guard let value = tensors["buffers." + key], value.shape == t.shape else {
                throw ProgramCheckpointError.mismatch("checkpoint", "model buffer 'buffers.\(key)' missing or of another shape")
            }
            t.assign(value)
        }
    }
}
