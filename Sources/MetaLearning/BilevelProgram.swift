import NeuralNetworks
import Optimizers
import Tensors

/// One level of a bilevel program: its parameters, the optimizer that updates them, and its LR schedule.
public final class Level {
    public let name: String
    /// Parameters under dotted keys, in sorted key order.
    public let parameters: [NamedParameter]
    public let optimizer: any Optimizer
    public let baseLearningRate: Float
    public let schedule: LearningRateSchedule
    /// Keys of parameters read by row lookups only (`Module.rowSparseKeys()`): data parallelism reduces
    /// only the rows a batch touches.
    public let rowSparseKeys: Set<String>

    public init(
        name: String, parameters: [NamedParameter], optimizer: any Optimizer, schedule: LearningRateSchedule = .constant,
        rowSparseKeys: Set<String> = []
    ) {
        self.name = name
        self.parameters = parameters
        self.rowSparseKeys = rowSparseKeys
        self.optimizer = optimizer
        self.baseLearningRate = optimizer.learningRate
        self.schedule = schedule
    }

    /// The parameter tensors, in key order.
    public var tensors: [Tensor] { parameters.map(\.tensor) }

    /// For each parameter, its row width (elements after the first axis) if it is row-sparse, else nil.
    public var rowWidths: [Int?] {
        parameters.map { rowSparseKeys.contains($0.key) && $0.tensor.shape.count >= 2 ? $0.tensor.count / $0.tensor.shape[0] : nil }
    }

    /// The optimizer as an `UpdateDerivative` (what SAMA's adaptation needs), or `EngineError.noUpdateDerivative`.
    func updateDerivative() throws -> any UpdateDerivative {
        guard let optimizer = optimizer as? any UpdateDerivative else {
            throw EngineError.noUpdateDerivative(optimizer: String(describing: type(of: optimizer)))
        }
        return optimizer
    }

    /// Sets the optimizer's learning rate for `step` from the schedule.
    func applySchedule(step: Int) { optimizer.learningRate = baseLearningRate * schedule.factor(at: step) }
}

/// A bilevel program: a base problem (θ trained on L_base, which may depend on the meta parameters λ)
/// and a meta problem (λ trained on L_meta evaluated at the current θ).
///
/// Applications implement this protocol; the `Engine` runs it. Batches are opaque to the engine. The
/// losses receive the forward context to use (training mode, dropout generator, BatchNorm policy): the
/// engine replays it for SAMA's ± passes so both see the same dropout masks.
public protocol BilevelProgram: AnyObject {
    associatedtype Batch
    /// θ with its optimizer.
    var base: Level { get }
    /// λ with its optimizer.
    var meta: Level { get }
    /// The next base (training) batch.
    func nextBaseBatch() -> Batch
    /// The next meta batch.
    func nextMetaBatch() -> Batch
    /// L_base(θ, λ; batch), a scalar.
    func baseLoss(_ batch: Batch, context: ForwardContext) -> Tensor
    /// L_meta(θ, λ; batch), a scalar (often independent of λ directly).
    func metaLoss(_ batch: Batch, context: ForwardContext) -> Tensor
}
