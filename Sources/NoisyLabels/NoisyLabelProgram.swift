import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Recipes
import Runtime
import Tensors

/// Tokenized texts with target distributions: soft weak labels for training, one-hot gold labels for the
/// clean meta set and the test set.
public struct TextClassificationData: Sendable {
    public var keys: [String]
    public var tokens: [[Int]]
    /// Row-major `[count, classCount]` target distributions.
    public var targets: [Float]
    public var classCount: Int

    public init(keys: [String], tokens: [[Int]], targets: [Float], classCount: Int) {
        precondition(
            keys.count == tokens.count && targets.count == keys.count * classCount,
            "TextClassificationData: \(keys.count) keys, \(tokens.count) token lists, \(targets.count) targets for \(classCount) classes")
        self.keys = keys; self.tokens = tokens; self.targets = targets; self.classCount = classCount
    }

    public init(keys: [String], tokens: [[Int]], labels: [Int], classCount: Int) {
        var targets = [Float](repeating: 0, count: labels.count * classCount)
        for (i, l) in labels.enumerated() { targets[i * classCount + l] = 1 }
        self.init(keys: keys, tokens: tokens, targets: targets, classCount: classCount)
    }

    public var count: Int { keys.count }

    /// Argmax of each target (the lowest class on ties).
    public var hardLabels: [Int] {
        (0..<count).map { i in
            var best = 0
            for c in 1..<classCount where targets[i * classCount + c] > targets[i * classCount + best] { best = c }
            return best
        }
    }

    /// Token lists and the `[n, classCount]` targets of the rows at `indices`.
    public func rows(_ indices: [Int]) -> (tokens: [[Int]], targets: Tensor) {
        var t: [Float] = []
        t.reserveCapacity(indices.count * classCount)
        for i in indices { t += targets[(i * classCount)..<((i + 1) * classCount)] }
        return (indices.map { tokens[$0] }, Tensor(shape: [indices.count, classCount], storage: t))
    }
}

/// The meta nets of the noisy-label application: MWN reweighting and/or MLC label correction
/// (keys `weight_net.*`, `label_net.*`). With neither, λ is empty (the finetune baselines).
public final class NoisyLabelMetaNets: Module {
    public let weightNet: MetaWeightNet?
    public let labelNet: LabelCorrectionNet?

    public init(weightNet: MetaWeightNet?, labelNet: LabelCorrectionNet?) {
        self.weightNet = weightNet
        self.labelNet = labelNet
    }

    /// Freshly initialised nets: MWN when `reweight`, MLC (gated if `gated`) on `featureWidth`-wide features
    /// when `correct`.
    public convenience init(
        reweight: Bool, correct: Bool, gated: Bool, featureWidth: Int, classes: Int,
        rng: inout RandomGenerator
    ) {
        self.init(
            weightNet: reweight ? MetaWeightNet(rng: &rng) : nil,
            labelNet: correct ? LabelCorrectionNet(featureWidth: featureWidth, classes: classes, gated: gated, rng: &rng) : nil)
    }

    public var children: [(String, any Module)] {
        (weightNet.map { [("weight_net", $0 as any Module)] } ?? []) + (labelNet.map { [("label_net", $0 as any Module)] } ?? [])
    }
}

/// Noisy-label training as a bilevel program (docs/ALGORITHMS.md §6):
///     L_base = Σᵢ wᵢ·CE(f(xᵢ; θ), ŷᵢ) / N  (or / Σ wᵢ),   wᵢ = MWN(ℓᵢ),  ŷᵢ = MLC(hᵢ, ỹᵢ)
///     L_meta = CE(f(x; θ), y) on a clean batch,
/// where ℓᵢ = CE(f(xᵢ), ỹᵢ) is the detached loss against the weak label ỹᵢ and hᵢ the detached penultimate
/// feature. Without a weight net every wᵢ = 1; without a label net ŷᵢ = ỹᵢ.
public final class NoisyLabelProgram: BilevelProgram {
    public struct Batch: Sendable { public var indices: [Int] }

    public let model: any TextClassifier
    public let metaNets: NoisyLabelMetaNets
    public let train: TextClassificationData
    public let clean: TextClassificationData
    public let normalization: WeightNormalization
    public let base: Level
    public let meta: Level
    /// Base batches (this rank's strided shard of every global batch, weak then clean rows when the run has
    /// two phases) and whole meta batches.
    public var batches: PhasedBatchStreams
    /// A fixed multiplier of each training row's loss (the clean samples' `dataset.meta_split_weight`), nil
    /// when every row counts once.
    public let rowMultipliers: [Float]?
    /// What the label net reads instead of the model's penultimate feature (`meta.label_net_input:
    /// sentence_embedding`): one row per training row and per clean sample; nil: the model's feature.
    public let labelFeatures: (train: Tensor, clean: Tensor)?
    /// Per training row, whether the label net's correction replaces its weak target (`CorrectionPlan`); nil: on
    /// every row that has a label net.
    public let correctionMask: [Bool]?
    /// The training-sample indices and weights of the latest `baseLoss` call. The engine emits `.baseStep`
    /// right after the base step's loss, before any meta pass, so an observer reads the weights it applied.
    public private(set) var lastWeights: (indices: [Int], weights: [Float])?

    public init(
        model: any TextClassifier, metaNets: NoisyLabelMetaNets, train: TextClassificationData,
        clean: TextClassificationData, baseOptimizer: any Optimizer, baseSchedule: LearningRateSchedule,
        metaOptimizer: any Optimizer, batchSize: Int, metaBatchSize: Int, normalization: WeightNormalization,
        seed: UInt64, rank: Int = 0, worldSize: Int = 1, rowMultipliers: [Float]? = nil,
        labelFeatures: (train: Tensor, clean: Tensor)? = nil, correctionMask: [Bool]? = nil,
        phases: (firstPhaseRows: Int, secondPhaseRows: Range<Int>, firstPhaseSteps: Int)? = nil
    ) {
        precondition(rowMultipliers.map { $0.count == train.count } ?? true, "NoisyLabelProgram: one multiplier per training row")
        self.model = model; self.metaNets = metaNets; self.train = train; self.clean = clean
        self.normalization = normalization
        self.rowMultipliers = rowMultipliers
        precondition(
            labelFeatures.map { $0.train.shape[0] == train.count && $0.clean.shape[0] == clean.count } ?? true,
            "NoisyLabelProgram: one label-net input row per training row and per clean sample")
        self.labelFeatures = labelFeatures
        precondition(correctionMask.map { $0.count == train.count } ?? true, "NoisyLabelProgram: one correction flag per training row")
        self.correctionMask = correctionMask
        base = Level(
            name: "base", parameters: model.namedParameters(), optimizer: baseOptimizer, schedule: baseSchedule,
            rowSparseKeys: model.rowSparseKeys())
        meta = Level(name: "meta", parameters: metaNets.namedParameters(), optimizer: metaOptimizer)
        let phases = phases ?? (train.count, train.count..<train.count, Int.max)
        batches = PhasedBatchStreams(
            phaseOneCount: phases.firstPhaseRows, cleanRows: phases.secondPhaseRows, phaseOneSteps: phases.firstPhaseSteps,
            batchSize: batchSize, metaCount: clean.count, metaBatchSize: metaBatchSize, seed: seed, rank: rank,
            worldSize: worldSize)
    }

    public func nextBaseBatch() -> Batch { Batch(indices: batches.nextBase()) }
    public func nextMetaBatch() -> Batch { Batch(indices: batches.nextMeta()) }

    public func baseLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let (tokens, weak) = train.rows(batch.indices)
        let (feature, logits) = model.features(tokens, context)
        let observed = Loss.crossEntropy(logits, targets: weak)
        let losses =
            metaNets.labelNet.map { net in
                let corrected = net(features: context.metaInput(labelInput(feature, rows: batch.indices)), weakLabels: weak)
                return Loss.crossEntropy(logits, targets: targets(corrected: corrected, weak: weak, rows: batch.indices))
            } ?? observed
        let multipliers = rowMultipliers.map { all in Tensor(shape: [batch.indices.count], storage: batch.indices.map { all[$0] }) }
        guard let weightNet = metaNets.weightNet else {
            lastWeights = nil
            return multipliers.map { normalization.combine(losses: losses, weights: $0) } ?? losses.mean()
        }
        let weights = weightNet(context.metaInput(observed.reshaped([batch.indices.count, 1])))
        lastWeights = (batch.indices, weights.scalars)
        return normalization.combine(losses: losses, weights: multipliers.map { weights * $0 } ?? weights)
    }

    /// The targets training `rows` learn from: the label net's `corrected` distributions, with the `weak` targets
    /// kept on the rows where the correction mask turns correction off.
    func targets(corrected: Tensor, weak: Tensor, rows: [Int]) -> Tensor {
        correctionMask.map { mask in CorrectionPlan.blend(corrected: corrected, weak: weak, keep: rows.map { mask[$0] }) } ?? corrected
    }

    /// The label net's input for the training `rows`: their sentence embeddings, or the model's `feature`.
    func labelInput(_ feature: Tensor, rows: [Int]) -> Tensor {
        labelFeatures.map { $0.train.indexSelect(rows) } ?? feature
    }

    public func metaLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let (tokens, targets) = clean.rows(batch.indices)
        return Loss.crossEntropy(model(tokens, context), targets: targets).mean()
    }

    /// Correct predictions (against the argmax of the targets), summed cross-entropy against the targets and
    /// the sample count over the rows `range` of `data` (evaluation mode, nothing recorded). Sharded
    /// evaluation sums these over ranks.
    public func evaluationSums(
        on data: TextClassificationData, rows range: Range<Int>? = nil,
        batchSize: Int = 256
    ) -> [Double] {
        let range = range ?? 0..<data.count
        let labels = data.hardLabels
        return withoutGrad {
            var correct = 0, loss = 0.0
            for start in stride(from: range.lowerBound, to: range.upperBound, by: batchSize) {
                let indices = Array(start..<min(start + batchSize, range.upperBound))
                let (tokens, targets) = data.rows(indices)
                let logits = model(tokens, .evaluation())
                correct += zip(logits.argmaxLastAxis(), indices).filter { $0 == labels[$1] }.count
                loss += Double(Loss.crossEntropy(logits, targets: targets).sum().item)
            }
            return [Double(correct), loss, Double(range.count)]
        }
    }

    /// The current per-sample loss against the training targets and the probability the model gives them,
    /// Σ_c target_c·p_c (its probability of the weak label; 1/k on a uniform tie), in evaluation mode, for the
    /// training rows `range` (all by default).
    public func currentFit(rows range: Range<Int>? = nil, batchSize: Int = 256) -> (losses: [Float], agreement: [Float]) {
        let range = range ?? 0..<train.count
        return withoutGrad {
            var losses: [Float] = [], agreement: [Float] = []
            for start in stride(from: range.lowerBound, to: range.upperBound, by: batchSize) {
                let (tokens, weak) = train.rows(Array(start..<min(start + batchSize, range.upperBound)))
                let logits = model(tokens, .evaluation())
                losses += Loss.crossEntropy(logits, targets: weak).scalars
                let p = logits.softmax().scalars, t = weak.scalars, k = train.classCount
                for row in 0..<(p.count / k) {
                    var sum: Float = 0
                    for c in 0..<k { sum += t[row * k + c] * p[row * k + c] }
                    agreement.append(sum)
                }
            }
            return (losses, agreement)
        }
    }

    /// The weight net's weights for per-sample losses against the training targets (nil without a weight net).
    public func weights(forLosses losses: [Float]) -> [Float]? {
        guard let weightNet = metaNets.weightNet, !losses.isEmpty else { return nil }
        return withoutGrad { weightNet(Tensor(shape: [losses.count, 1], storage: losses)).scalars }
    }

    /// The model's predicted class distribution (evaluation mode), row-major `[range.count, classCount]`, for the
    /// training rows `range` (all by default).
    public func currentPredictions(rows range: Range<Int>? = nil, batchSize: Int = 256) -> [Float] {
        let range = range ?? 0..<train.count
        return withoutGrad {
            var probabilities: [Float] = []
            for start in stride(from: range.lowerBound, to: range.upperBound, by: batchSize) {
                let (tokens, _) = train.rows(Array(start..<min(start + batchSize, range.upperBound)))
                probabilities += model(tokens, .evaluation()).softmax().scalars
            }
            return probabilities
        }
    }

    /// The label net's corrected label (argmax) for each clean meta sample given its own weak targets
    /// (row-major `[clean.count, classCount]`), nil without a label net: how label correction is checked on data
    /// with gold labels before its corrections are used.
    public func metaSetCorrections(weakTargets: [Float], batchSize: Int = 256) -> [Int]? {
        guard let labelNet = metaNets.labelNet else { return nil }
        let k = clean.classCount
        return withoutGrad {
            var labels: [Int] = []
            for start in stride(from: 0, to: clean.count, by: batchSize) {
                let indices = Array(start..<min(start + batchSize, clean.count))
                let (tokens, _) = clean.rows(indices)
                let feature = labelFeatures?.clean.indexSelect(indices) ?? model.features(tokens, .evaluation()).feature
                let weak = Tensor(shape: [indices.count, k], storage: indices.flatMap { weakTargets[($0 * k)..<(($0 + 1) * k)] })
                labels += labelNet(features: feature, weakLabels: weak).argmaxLastAxis()
            }
            return labels
        }
    }

    /// For the training rows `range` (all by default) under the current θ and λ: each sample's weight (nil
    /// without a weight net) and the label distribution it trains on (nil without a label net: the corrected one, or
    /// its weak target where the correction mask turns correction off), row-major `[range.count, classCount]`.
    public func currentDecisions(rows range: Range<Int>? = nil, batchSize: Int = 256) -> (weights: [Float]?, corrected: [Float]?) {
        let range = range ?? 0..<train.count
        return withoutGrad {
            var weights: [Float] = [], corrected: [Float] = []
            for start in stride(from: range.lowerBound, to: range.upperBound, by: batchSize) {
                let indices = Array(start..<min(start + batchSize, range.upperBound))
                let (tokens, weak) = train.rows(indices)
                let (feature, logits) = model.features(tokens, .evaluation())
                if let weightNet = metaNets.weightNet {
                    weights += weightNet(Loss.crossEntropy(logits, targets: weak).reshaped([indices.count, 1])).scalars
                }
                if let labelNet = metaNets.labelNet {
                    let distributions = labelNet(features: labelInput(feature, rows: indices), weakLabels: weak)
                    corrected += targets(corrected: distributions, weak: weak, rows: indices).scalars
                }
            }
            return (metaNets.weightNet == nil ? nil : weights, metaNets.labelNet == nil ? nil : corrected)
        }
    }
}

extension NoisyLabelProgram: ResumableProgram {
    public func dataState() throws -> Data { try batches.state() }
    public func restoreDataState(_ data: Data) throws { try batches.restore(data) }
}
