import Foundation
import NeuralNetworks
import Optimizers
import Tensors

/// Token id lists with integer class labels: the end task of ``AuxiliaryTokenReweightingProgram``.
public struct TokenClassificationData: Sendable {
    /// One id list per text, as the task model reads them (`[CLS] … [SEP]`, unpadded).
    public var tokens: [[Int]]
    public var labels: [Int]
    public var classCount: Int

    public init(tokens: [[Int]], labels: [Int], classCount: Int) {
        precondition(tokens.count == labels.count && !tokens.isEmpty, "\(tokens.count) texts vs \(labels.count) labels")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "labels outside 0..<\(classCount)")
        self.tokens = tokens; self.labels = labels; self.classCount = classCount
    }

    public var count: Int { labels.count }
}

/// Continued pretraining with learned per-token weights on the auxiliary masked-language-model loss
/// (TARTAN-MT, Dery et al. 2022, with a Meta-Weight-Net over the MLM tokens; docs/ALGORITHMS.md §7):
///
///     L_base = CE_task(task batch) + a·(1/T)·Σ_t w_t·ℓ_t      t: the T masked tokens of an auxiliary MLM batch
///     w_t    = 2·σ(MLP(sg(ℓ_t))),   MLP 1 → 100 → 1, ReLU, output layer zero-initialised (every w_t starts at 1)
///     L_meta = CE_task on a separately drawn task batch (mean)
///
/// a is ``auxiliaryWeight``. With ``uniformWeights`` every w_t = 1 and the weight net is not evaluated: plain
/// TARTAN-MT (run it with the `finetune` method, which takes no meta step).
///
/// The program is written against closures, not a concrete model type: `taskLogits` maps token id lists to
/// class logits, `hiddenStates` maps padded id rows and their attention mask to the encoder's hidden states
/// `[B, L, H]`, and `head` (tied to the encoder's word embeddings) turns the masked positions into per-token
/// losses. θ is every parameter of `model` (which must hold the encoder and the task head) plus the MLM
/// head's own; λ is the weight net.
///
/// Base batches carry the task indices and an auxiliary MLM batch that is corrupted when the batch is drawn
/// (``MaskedLanguageModeling``, from the program's own seeded generator), so SAMA's replayed passes on the same
/// batch see the same masks. The generator and the three samplers are the data state of a checkpoint.
/// Single process only: there is no sharding of the batches.
public final class AuxiliaryTokenReweightingProgram: BilevelProgram, ResumableProgram {
    /// A corrupted auxiliary batch: padded id rows, their attention mask, the masked tokens and the
    /// document each row came from.
    public struct AuxiliaryBatch: Sendable, Equatable {
        /// Index in ``documents`` of each row.
        public var documents: [Int]
        /// Corrupted ids, padded to the longest row.
        public var ids: [[Int]]
        public var attentionMask: [[Int]]
        /// The selected tokens (targets: their original ids), row-major.
        public var targets: [MaskedLanguageModeling.Target]
    }

    /// A base batch (task rows and an auxiliary MLM batch) or a meta batch (task rows only).
    public struct Batch: Sendable {
        /// Indices into ``task`` (base batches) or ``metaTask`` (meta batches).
        public var task: [Int]
        public var auxiliary: AuxiliaryBatch?
    }

    /// The weights of the last base step's masked tokens, with the document and loss of each token.
    public struct TokenWeights: Sendable, Equatable {
        /// For each masked token, the index in ``documents`` of the document it came from.
        public var documents: [Int]
        /// For each masked token, its original vocabulary id (the MLM target).
        public var tokens: [Int]
        /// w_t (all 1 with ``uniformWeights``).
        public var weights: [Float]
        /// ℓ_t, the token's MLM cross-entropy.
        public var losses: [Float]

        /// Mean weight per document over these tokens, by document index.
        public func meanPerDocument() -> [Int: Double] {
            var sums: [Int: (Double, Int)] = [:]
            for (document, weight) in zip(documents, weights) {
                let (sum, count) = sums[document] ?? (0, 0)
                sums[document] = (sum + Double(weight), count + 1)
            }
            return sums.mapValues { $0.0 / Double($0.1) }
        }
    }

    /// Class logits `[n, classes]` for n token id lists.
    public typealias TaskLogits = (_ tokens: [[Int]], _ context: ForwardContext) -> Tensor
    /// Encoder hidden states `[B, L, H]` for padded id rows and their attention mask (1 token / 0 padding).
    public typealias HiddenStates = (_ ids: [[Int]], _ attentionMask: [[Int]], _ context: ForwardContext) -> Tensor

    /// The task model, encoder included.
    public let model: any Module
    /// The MLM head, tied to the encoder's word embeddings (which must be a parameter of `model`).
    public let head: MaskedLanguageModelHead
    public let weightNet: MetaWeightNet
    /// Base task data and the task data meta batches are drawn from (may be the same).
    public let task: TokenClassificationData, metaTask: TokenClassificationData
    /// Auxiliary documents: id lists (`[CLS] … [SEP]`, at most the encoder's positions).
    public let documents: [[Int]]
    public let masking: MaskedLanguageModeling
    /// The id auxiliary rows are padded with.
    public let paddingID: Int
    public let base: Level
    public let meta: Level
    /// w ≡ 1 and no weight net: TARTAN-MT.
    public var uniformWeights = false
    /// a, the factor on the auxiliary term.
    public var auxiliaryWeight: Float
    /// The masked tokens' weights of the latest base step (recorded by passes whose context updates running
    /// statistics, i.e. the engine's base step, not SAMA's replayed passes).
    public private(set) var lastTokenWeights: TokenWeights?

    private let taskLogits: TaskLogits
    private let hiddenStates: HiddenStates
    private var state: DataState

    private struct DataState: Codable, Equatable {
        var task: EpochSampler
        var meta: EpochSampler
        var auxiliary: EpochSampler
        var masking: RandomGenerator
    }

    /// - Parameters:
    ///   - model: the task model with the encoder; its parameters and the head's are θ.
    ///   - head: an MLM head tied to a parameter of `model` (the encoder's word embeddings).
    ///   - weightNet: typically `MetaWeightNet(inputs: 1, hidden: 100, scale: 2, zeroInitialisedOutput: true)`.
    ///   - seed: task batches use `seed`, meta batches `seed + 1`, auxiliary batches `seed + 2`, masking `seed + 3`.
    public init(
        model: any Module, head: MaskedLanguageModelHead, weightNet: MetaWeightNet,
        task: TokenClassificationData, metaTask: TokenClassificationData, documents: [[Int]],
        masking: MaskedLanguageModeling, paddingID: Int,
        baseOptimizer: any Optimizer, baseSchedule: LearningRateSchedule = .constant, metaOptimizer: any Optimizer,
        batchSize: Int, metaBatchSize: Int, auxiliaryBatchSize: Int, auxiliaryWeight: Float = 1, seed: UInt64,
        taskLogits: @escaping TaskLogits, hiddenStates: @escaping HiddenStates
    ) {
        precondition(!documents.isEmpty, "AuxiliaryTokenReweightingProgram needs auxiliary documents")
        let modelParameters = model.namedParameters()
        precondition(
            modelParameters.contains { $0.tensor === head.wordEmbeddings },
            "the MLM head must be tied to a parameter of the model (the encoder's word embeddings)")
        let headParameters = head.namedParameters()
        let keys = Set(modelParameters.map(\.key))
        precondition(headParameters.allSatisfy { !keys.contains($0.key) }, "the model already has keys of the MLM head")
        self.model = model; self.head = head; self.weightNet = weightNet
        self.task = task; self.metaTask = metaTask; self.documents = documents
        self.masking = masking; self.paddingID = paddingID; self.auxiliaryWeight = auxiliaryWeight
        self.taskLogits = taskLogits; self.hiddenStates = hiddenStates
        // The tied embedding table is read densely by the decoder: no row-sparse keys.
        base = Level(
            name: "base", parameters: (modelParameters + headParameters).sorted { $0.key < $1.key },
            optimizer: baseOptimizer, schedule: baseSchedule)
        meta = Level(name: "meta", parameters: weightNet.namedParameters(), optimizer: metaOptimizer)
        state = DataState(
            task: EpochSampler(count: task.count, batchSize: batchSize, seed: seed),
            meta: EpochSampler(count: metaTask.count, batchSize: metaBatchSize, seed: seed &+ 1),
            auxiliary: EpochSampler(count: documents.count, batchSize: auxiliaryBatchSize, seed: seed &+ 2),
            masking: RandomGenerator(seed: seed &+ 3))
    }

    public func nextBaseBatch() -> Batch {
        Batch(task: state.task.next(), auxiliary: auxiliaryBatch(documents: state.auxiliary.next()))
    }

    public func nextMetaBatch() -> Batch { Batch(task: state.meta.next(), auxiliary: nil) }

    /// The documents `indices`, padded and corrupted with the program's masking generator.
    public func auxiliaryBatch(documents indices: [Int]) -> AuxiliaryBatch {
        let rows = indices.map { documents[$0] }
        let length = rows.map(\.count).max() ?? 0
        let ids = rows.map { $0 + [Int](repeating: paddingID, count: length - $0.count) }
        let mask = rows.map { [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: length - $0.count) }
        let corruption = masking.corrupt(ids, attentionMask: mask, rng: &state.masking)
        return AuxiliaryBatch(documents: indices, ids: corruption.ids, attentionMask: mask, targets: corruption.targets)
    }

    /// The per-token MLM losses `[T]` of an auxiliary batch.
    public func tokenLosses(_ batch: AuxiliaryBatch, context: ForwardContext) -> Tensor {
        head.tokenLosses(hidden: hiddenStates(batch.ids, batch.attentionMask, context), tokens: batch.targets)
    }

    public func baseLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let labels = batch.task.map { task.labels[$0] }
        let taskLoss = Loss.meanCrossEntropy(taskLogits(batch.task.map { task.tokens[$0] }, context), labels: labels)
        guard let auxiliary = batch.auxiliary, !auxiliary.targets.isEmpty, auxiliaryWeight != 0 else { return taskLoss }
        let losses = tokenLosses(auxiliary, context: context)
        let count = auxiliary.targets.count
        let weights = uniformWeights ? nil : weightNet(context.metaInput(losses.reshaped([count, 1])))
        if context.updatesRunningStatistics {
            lastTokenWeights = TokenWeights(
                documents: auxiliary.targets.map { auxiliary.documents[$0.row] }, tokens: auxiliary.targets.map(\.original),
                weights: weights?.scalars ?? [Float](repeating: 1, count: count), losses: losses.scalars)
        }
        let auxiliaryLoss = weights.map { ($0 * losses).mean() } ?? losses.mean()
        return taskLoss + auxiliaryLoss * auxiliaryWeight
    }

    public func metaLoss(_ batch: Batch, context: ForwardContext) -> Tensor {
        let labels = batch.task.map { metaTask.labels[$0] }
        return Loss.meanCrossEntropy(taskLogits(batch.task.map { metaTask.tokens[$0] }, context), labels: labels)
    }

    /// The current weight of each masked token of an auxiliary batch (evaluation mode, no graph), from its
    /// current loss; all 1 with ``uniformWeights``.
    public func tokenWeights(_ batch: AuxiliaryBatch) -> [Float] {
        if uniformWeights { return [Float](repeating: 1, count: batch.targets.count) }
        guard !batch.targets.isEmpty else { return [] }
        return withoutGrad {
            let losses = tokenLosses(batch, context: .evaluation())
            return weightNet(losses.reshaped([batch.targets.count, 1])).scalars
        }
    }

    /// Accuracy of the task model on `data` (evaluation mode), `batchSize` texts at a time.
    public func accuracy(on data: TokenClassificationData, batchSize: Int = 64) -> Double {
        withoutGrad {
            var correct = 0.0
            for start in stride(from: 0, to: data.count, by: batchSize) {
                let range = start..<min(start + batchSize, data.count)
                let labels = Array(data.labels[range])
                correct += Loss.accuracy(taskLogits(Array(data.tokens[range]), .evaluation()), labels: labels) * Double(labels.count)
            }
            return correct / Double(data.count)
        }
    }

    /// The three samplers' positions and the masking generator.
    public func dataState() throws -> Data { try JSONEncoder().encode(state) }

    public func restoreDataState(_ data: Data) throws {
        let restored: DataState
        do { restored = try JSONDecoder().decode(DataState.self, from: data) } catch {
            throw ProgramCheckpointError.mismatch("data state", "not an auxiliary-reweighting data state (\(error.localizedDescription))")
        }
        guard restored.task.count == task.count, restored.meta.count == metaTask.count, restored.auxiliary.count == documents.count
        else {
            throw ProgramCheckpointError.mismatch("data state", "sampler sizes differ from this program's data")
        }
        state = restored
    }
}
