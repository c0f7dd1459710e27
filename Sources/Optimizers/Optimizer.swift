import Tensors

/// A named parameter: its dotted key and the tensor an optimizer updates in place.
public typealias NamedParameter = (key: String, tensor: Tensor)

/// A first-order optimizer: one in-place step per parameter, state keyed by the parameter's dotted key.
public protocol Optimizer: AnyObject {
    /// The learning rate used by the next step (schedules set it before each step).
    var learningRate: Float { get set }
    /// Number of steps taken.
    var stepCount: Int { get }
    /// Updates each parameter in place from its gradient (same order, same shapes).
    func step(_ parameters: [NamedParameter], gradients: [Tensor])
    /// The optimizer state as tensors keyed `<parameter key>.<slot>` plus `__step`.
    func stateDictionary() -> [String: Tensor]
    /// Restores state written by `stateDictionary()`; throws when a slot is missing or has the wrong shape.
    func loadState(_ state: [String: Tensor], parameters: [NamedParameter]) throws
}

/// An optimizer that exposes the diagonal derivative of its last update with respect to the gradient,
/// A = ∂u/∂g, evaluated with its state after that step and the current learning rate. SAMA adapts the meta
/// gradient with it (docs/ALGORITHMS.md §3); Adam, AdamW and SGD adopt it.
public protocol UpdateDerivative: Optimizer {
    /// A = ∂u/∂g for each parameter, for the last step taken (precondition: a step was taken).
    func updateDerivative(_ parameters: [NamedParameter]) -> [Tensor]
    /// Frees what `updateDerivative` and `adaptedVectorBuilder` keep from the last step for these parameters (Adam:
    /// the step's gradient, a parameter-sized buffer) once A of that step is no longer needed. Until the next step,
    /// asking for A of a released parameter is a precondition failure. Optimizers that keep nothing for A do
    /// nothing (the default).
    func releaseUpdateDerivativeState(_ parameters: [NamedParameter])
    /// Whether A of the last step can still be computed for all of `parameters` (false after a release).
    func hasUpdateDerivativeState(_ parameters: [NamedParameter]) -> Bool
    /// A builder for A ⊙ x of one parameter from blocks of x in order (`AdaptedVectorBuilder`); with
    /// `releasingState` the parameter's state for A is freed when the builder finishes, and the optimizer
    /// may lend that state's buffer as the builder's destination.
    func adaptedVectorBuilder(for parameter: NamedParameter, releasingState: Bool) -> AdaptedVectorBuilder
}

extension UpdateDerivative {
    public func releaseUpdateDerivativeState(_ parameters: [NamedParameter]) {}
    public func hasUpdateDerivativeState(_ parameters: [NamedParameter]) -> Bool { true }
}

/// Errors restoring optimizer state.
public enum OptimizerError: Error, Equatable {
    case missingState(String)
    case stateShapeMismatch(String, expected: [Int], found: [Int])
}

extension OptimizerError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .missingState(key): "optimizer state has no slot '\(key)'"
        case let .stateShapeMismatch(key, expected, found): "optimizer state '\(key)' has shape \(found), expected \(expected)"
        }
    }
}

extension Optimizer {
    /// Steps using each parameter's accumulated `.grad` (parameters without one are skipped), then clears them.
    public func step(accumulatedGradientsOf parameters: [NamedParameter]) {
        let withGrad = parameters.filter { $0.tensor.grad != nil }
        step(withGrad, gradients: withGrad.map { $0.tensor.grad! })
        for p in parameters { p.tensor.grad = nil }
    }
}

/// Per-parameter state slots keyed by dotted key.
struct SlotStore {
    var slots: [String: [Float]] = [:]

    /// Moves a slot out of the store (so mutating it copies nothing); put it back with `slots[...] =`.
    mutating func take(_ key: String, _ name: String, count: Int) -> [Float] {
        slots.removeValue(forKey: "\(key).\(name)") ?? [Float](repeating: 0, count: count)
    }

    func tensors(shapes: [String: [Int]]) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (key, values) in slots { result[key] = Tensor(shape: shapes[key] ?? [values.count], storage: values) }
        return result
    }

    static func restore(_ state: [String: Tensor], parameters: [NamedParameter], slotNames: [String]) throws -> SlotStore {
        var store = SlotStore()
        for (key, tensor) in parameters {
            for name in slotNames {
                let slotKey = "\(key).\(name)"
                guard let value = state[slotKey] else { throw OptimizerError.missingState(slotKey) }
                guard value.count == tensor.count else {
                    throw OptimizerError.stateShapeMismatch(slotKey, expected: tensor.shape, found: value.shape)
                }
                store.slots[slotKey] = value.scalars
            }
        }
        return store
    }
}

/// Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradients(_ gradients: [Tensor], maxNorm: Float) -> Float {
    let norm = globalNorm(gradients)
    guard norm > maxNorm, norm > 0 else { return norm }
    let scale = maxNorm / (norm + 1e-6)
    for g in gradients { g.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] *= scale } } }
    return norm
}

/// The L2 norm of all tensors taken together.
public func globalNorm(_ tensors: [Tensor]) -> Float {
    var total: Double = 0
    for t in tensors { t.withUnsafeBufferPointer { p in for x in p { total += Double(x) * Double(x) } } }
    return Float(total.squareRoot())
}
