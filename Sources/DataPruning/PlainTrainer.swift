import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Tensors

/// A model mapping `[N, C, H, W]` images (or `[N, F]` features) to `[N, classes]` logits.
public protocol ImageClassifier: Module {
    /// Logits for a batch; `context` carries training mode (dropout, BatchNorm statistics).
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor
}

extension MLP: ImageClassifier {}
extension SmallCNN: ImageClassifier {}
extension ResNet: ImageClassifier {}

/// Settings of plain supervised training (no meta learning).
public struct PlainTrainingSettings: Sendable, Equatable {
    /// The optimizer and its hyperparameters.
    public enum OptimizerChoice: Sendable, Equatable {
        /// SGD with momentum μ, Nesterov or heavy-ball, and L2 weight decay (PyTorch's conventions).
        case sgd(learningRate: Float, momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 5e-4)
        /// Adam with L2 weight decay (`decoupled`: AdamW).
        case adam(learningRate: Float = 1e-3, weightDecay: Float = 0, decoupled: Bool = false)
    }
    /// The learning-rate schedule, over the whole run's steps.
    public enum ScheduleChoice: Sendable, Equatable {
        case constant
        /// Cosine decay to 0 over all steps, after `warmupEpochs` of linear warm-up.
        case cosine(warmupEpochs: Int = 0)
        /// Multiply by `gamma` at each milestone epoch.
        case step(milestoneEpochs: [Int], gamma: Float = 0.1)
    }

    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerChoice
    public var schedule: ScheduleChoice
    /// Seeds the batch order (`EpochSampler`) and, with `seed + 1`, the dropout and augmentation generator.
    public var seed: UInt64
    /// Random horizontal flips and shifts of up to this many pixels (zero padded) on training batches; 0: none.
    public var augmentShift: Int
    public var augmentFlip: Bool

    /// The paper's setting: SGD 0.1, momentum 0.9 Nesterov, weight decay 5e-4, batch 128, cosine.
    public init(
        epochs: Int, batchSize: Int = 128, optimizer: OptimizerChoice = .sgd(learningRate: 0.1),
        schedule: ScheduleChoice = .cosine(), seed: UInt64 = 0, augmentShift: Int = 0, augmentFlip: Bool = false
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.schedule = schedule
        self.seed = seed
        self.augmentShift = augmentShift
        self.augmentFlip = augmentFlip
    }

    /// Throws naming the setting when a value is out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ what: String) throws { if !ok { throw PlainTrainingError.invalidSetting(what) } }
        try check(epochs >= 1, "epochs must be at least 1, got \(epochs)")
        try check(batchSize >= 1, "batch size must be at least 1, got \(batchSize)")
        try check(augmentShift >= 0 && augmentShift <= 8, "augmentation shift must be 0…8 pixels, got \(augmentShift)")
        switch optimizer {
        case let .sgd(lr, momentum, nesterov, wd):
            try check(lr > 0 && lr.isFinite, "SGD learning rate must be positive, got \(lr)")
            try check(momentum >= 0 && momentum < 1, "SGD momentum must be in [0, 1), got \(momentum)")
            try check(!nesterov || momentum > 0, "Nesterov needs momentum > 0")
            try check(wd >= 0 && wd.isFinite, "weight decay must be ≥ 0, got \(wd)")
        case let .adam(lr, wd, _):
            try check(lr > 0 && lr.isFinite, "Adam learning rate must be positive, got \(lr)")
            try check(wd >= 0 && wd.isFinite, "weight decay must be ≥ 0, got \(wd)")
        }
    }
}

extension PlainTrainingSettings {
    /// The optimizer these settings describe, fresh (no state).
    public func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case let .sgd(lr, momentum, nesterov, wd): SGD(learningRate: lr, momentum: momentum, nesterov: nesterov, weightDecay: wd)
        case let .adam(lr, wd, decoupled): Adam(learningRate: lr, weightDecay: wd, decoupledWeightDecay: decoupled)
        }
    }

    /// The base learning rate the schedule scales.
    public var learningRate: Float {
        switch optimizer {
        case let .sgd(lr, _, _, _): lr
        case let .adam(lr, _, _): lr
        }
    }

    /// The schedule over the run's `epochs × stepsPerEpoch` steps, as a per-step factor of `learningRate`.
    public func learningRateSchedule(stepsPerEpoch: Int) -> LearningRateSchedule {
        switch schedule {
        case .constant: .constant
        case let .cosine(warmup): .cosine(totalSteps: epochs * stepsPerEpoch, warmupSteps: warmup * stepsPerEpoch)
        case let .step(milestones, gamma): .multiStep(milestones: milestones.map { $0 * stepsPerEpoch }, gamma: gamma)
        }
    }
}

/// Errors of plain training.
public enum PlainTrainingError: Error, LocalizedError, Equatable {
    case invalidSetting(String)
    /// The batch loss became NaN or infinite (before the step was applied).
    case nonFiniteLoss(epoch: Int, step: Int)
    /// Training on a subset that is empty or names samples outside the split.
    case badSubset(String)

    public var errorDescription: String? {
        switch self {
        case let .invalidSetting(what): "plain training: \(what)"
        case let .nonFiniteLoss(epoch, step):
            "training loss is not finite at epoch \(epoch), step \(step): lower the learning rate or check the data"
        case let .badSubset(what): "plain training subset: \(what)"
        }
    }
}

/// What the trainer saw of one training batch, before its update: the samples (indices into the split), their
/// labels and the batch's logits `[n, classes]` (detached), computed in training mode. Forgetting events and AUM
/// are built from these (``TrainingDynamics``).
public struct BatchPresentation {
    public let epoch: Int
    public let indices: [Int]
    public let labels: [Int]
    public let logits: Tensor
}

/// Per-epoch summary of plain training.
public struct PlainEpochReport: Sendable, Equatable {
    public var epoch: Int
    public var meanLoss: Double
    public var trainAccuracy: Double
    public var seconds: Double
}

/// Plain supervised training of an ``ImageClassifier``: seeded shuffled batches from `EpochSampler` (the last
/// partial batch of each epoch is dropped), mean cross-entropy, SGD or Adam with a per-step schedule.
public final class PlainTrainer {
    public let model: any ImageClassifier
    public let settings: PlainTrainingSettings
    public let optimizer: any Optimizer
    private let context: ForwardContext
    private var augmentGenerator: RandomGenerator

    public init(model: any ImageClassifier, settings: PlainTrainingSettings) throws {
        try settings.validate()
        self.model = model
        self.settings = settings
        optimizer = settings.makeOptimizer()
        context = ForwardContext(training: true, seed: settings.seed &+ 1)
        augmentGenerator = RandomGenerator(seed: settings.seed &+ 2)
    }


    /// Trains for `settings.epochs` on `split` (or only the samples at `subset`, indices into it), calling
    /// `onBatch` with every batch's logits before its update and `onEpoch` after every epoch. `stopAfter` ends the
    /// run after that many epochs of the full schedule (early-training scores: EL2N, GraNd).
    @discardableResult
    public func train(
        on split: ImageSplit, subset: [Int]? = nil, stopAfter: Int? = nil,
        onBatch: ((BatchPresentation) -> Void)? = nil,
        onEpoch: ((PlainEpochReport) throws -> Void)? = nil
    ) throws -> [PlainEpochReport] {
        let pool = subset ?? Array(0..<split.count)
        guard !pool.isEmpty else { throw PlainTrainingError.badSubset("no samples to train on") }
        if let bad = pool.first(where: { $0 < 0 || $0 >= split.count }) {
            throw PlainTrainingError.badSubset("index \(bad) outside the split's \(split.count) samples")
        }
        var sampler = EpochSampler(count: pool.count, batchSize: settings.batchSize, seed: settings.seed)
        let stepsPerEpoch = max(1, pool.count / sampler.batchSize)
        let schedule = settings.learningRateSchedule(stepsPerEpoch: stepsPerEpoch)
        let parameters = model.namedParameters()
        var reports: [PlainEpochReport] = []
        context.training = true
        context.updatesRunningStatistics = true
        for epoch in 0..<min(settings.epochs, stopAfter ?? settings.epochs) {
            let start = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            for step in 0..<stepsPerEpoch {
                let indices = sampler.next().map { pool[$0] }
                var (x, labels) = split.batch(indices)
                if settings.augmentShift > 0 || settings.augmentFlip { x = augment(x) }
                let logits = model(x, context)
                let loss = Loss.meanCrossEntropy(logits, labels: labels)
                let value = Double(loss.item)
                guard value.isFinite else { throw PlainTrainingError.nonFiniteLoss(epoch: epoch, step: step) }
                let detached = logits.detached()
                onBatch?(BatchPresentation(epoch: epoch, indices: indices, labels: labels, logits: detached))
                let gradients = Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor))
                optimizer.learningRate = settings.learningRate * schedule.factor(at: epoch * stepsPerEpoch + step)
                optimizer.step(parameters.map { (key: $0.key, tensor: $0.tensor) }, gradients: gradients)
                lossSum += value * Double(indices.count)
                correct += zip(detached.argmaxLastAxis(), labels).filter { $0 == $1 }.count
                seen += indices.count
            }
            let report = PlainEpochReport(
                epoch: epoch, meanLoss: lossSum / Double(seen), trainAccuracy: Double(correct) / Double(seen),
                seconds: Date().timeIntervalSince(start))
            reports.append(report)
            try onEpoch?(report)
        }
        return reports
    }

    /// Random shifts (zero padded) and horizontal flips of a `[n, C, H, W]` batch, from the trainer's generator.
    private func augment(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let shift = settings.augmentShift
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { src in
            for i in 0..<n {
                let dy = shift > 0 ? augmentGenerator.integer(below: 2 * shift + 1) - shift : 0
                let dx = shift > 0 ? augmentGenerator.integer(below: 2 * shift + 1) - shift : 0
                let flip = settings.augmentFlip && augmentGenerator.integer(below: 2) == 1
                for ch in 0..<c {
                    let base = (i * c + ch) * h * w
                    for r in 0..<h {
                        let sr = r + dy
                        guard sr >= 0, sr < h else { continue }
                        for col in 0..<w {
                            let target = flip ? w - 1 - col : col
                            let sc = target + dx
                            if sc >= 0, sc < w { out[base + r * w + col] = src[base + sr * w + sc] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: out)
    }
}

/// Evaluation of a classifier: logits in evaluation mode (BatchNorm running statistics, no dropout).
public enum Evaluation {
    /// `[N, classes]` logits of every sample of `split` (or of `subset`), in batches of `batchSize`.
    public static func logits(
        _ model: any ImageClassifier, on split: ImageSplit, subset: [Int]? = nil,
        batchSize: Int = 500
    ) -> Tensor {
        let indices = subset ?? Array(0..<split.count)
        let context = ForwardContext.evaluation()
        var parts: [Tensor] = []
        withoutGrad {
            for start in stride(from: 0, to: indices.count, by: batchSize) {
                let batch = Array(indices[start..<min(start + batchSize, indices.count)])
                parts.append(model(split.batch(batch).x, context))
            }
        }
        return parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 0)
    }

    /// Top-1 accuracy on `split`.
    public static func accuracy(_ model: any ImageClassifier, on split: ImageSplit, batchSize: Int = 500) -> Double {
        Loss.accuracy(logits(model, on: split, batchSize: batchSize), labels: split.labels)
    }
}
