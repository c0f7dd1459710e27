import Tensors
import Foundation

/// A layer or model: its own tensors and its sub-modules, each under a local name.
///
/// Dotted keys (`encoder.layer.0.attention.self.query.weight`) built from these names are the one identity
/// of a parameter: optimizer state, checkpoints, result rows, bucket order and weight import all use them.
/// Tensors with `requiresGrad` are parameters; the others (BatchNorm running statistics) are buffers.
public protocol Module: AnyObject {
    /// Tensors owned directly by this module, by local name.
    var localTensors: [(String, Tensor)] { get }
    /// Sub-modules, by local name.
    var children: [(String, any Module)] { get }
    /// Local names of tensors read by row lookups only (embedding tables): a batch's gradient is nonzero in
    /// the rows it looks up, so data parallelism reduces only those rows.
    var rowSparseTensorNames: [String] { get }
}

extension Module {
    public var localTensors: [(String, Tensor)] { [] }
    public var children: [(String, any Module)] { [] }
    public var rowSparseTensorNames: [String] { [] }

    /// Dotted keys of the row-sparse tensors (`rowSparseTensorNames`) of this module and its sub-modules.
    public func rowSparseKeys() -> Set<String> {
        var keys = Set(rowSparseTensorNames)
        for (name, child) in children { keys.formUnion(child.rowSparseKeys().map { name + "." + $0 }) }
        return keys
    }

    /// Every tensor (parameters and buffers) under its dotted key, sorted by key.
    public func namedTensors() -> [(key: String, tensor: Tensor)] {
        var result: [(key: String, tensor: Tensor)] = []
        collect(prefix: "", into: &result)
        return result.sorted { $0.key < $1.key }
    }

    /// The trainable parameters under their dotted keys, sorted by key (deterministic on every rank).
    public func namedParameters() -> [(key: String, tensor: Tensor)] {
        namedTensors().filter { $0.tensor.requiresGrad }
    }

    /// The trainable parameters, in key order.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    private func collect(prefix: String, into result: inout [(key: String, tensor: Tensor)]) {
        for (name, tensor) in localTensors { result.append((prefix + name, tensor)) }
        for (name, child) in children { child.collect(prefix: prefix + name + ".", into: &result) }
    }

    /// Copies tensor values from `state` (keyed like `namedTensors()`); throws on a missing key or a shape mismatch.
    /// - Parameter strict: when true, keys in `state` that the module does not have are an error too.
    public func load(_ state: [String: Tensor], strict: Bool = true, source: String = "state") throws {
        let own = namedTensors()
        let ownKeys = Set(own.map(\.key))
        for (key, tensor) in own {
            guard let value = state[key] else { throw ModuleError.missingKey(key, source: source) }
            guard value.shape == tensor.shape else {
                throw ModuleError.shapeMismatch(key, expected: tensor.shape, found: value.shape, source: source)
            }
            tensor.assign(value)
        }
        if strict, let extra = state.keys.sorted().first(where: { !ownKeys.contains($0) }) {
            throw ModuleError.unexpectedKey(extra, source: source)
        }
    }

    /// A copy of every tensor's current value, by dotted key.
    public func stateDictionary() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedTensors().map { ($0.key, $0.tensor.detached()) })
    }
}

/// Errors loading weights into a module.
public enum ModuleError: Error, Equatable {
    case missingKey(String, source: String)
    case unexpectedKey(String, source: String)
    case shapeMismatch(String, expected: [Int], found: [Int], source: String)
}

extension ModuleError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .missingKey(key, source): "\(source): no tensor for parameter '\(key)'"
        case let .unexpectedKey(key, source): "\(source): tensor '\(key)' matches no parameter of the model"
        case let .shapeMismatch(key, expected, found, source):
            "\(source): tensor '\(key)' has shape \(found), the model expects \(expected)"
        }
    }
}

/// State shared by the layers during one forward pass: training mode, dropout randomness, and whether
/// BatchNorm may update its running statistics.
///
/// SAMA's two perturbed forwards save `rng` before the first and restore it before the second, so both
/// see the same dropout masks, and set `updatesRunningStatistics = false` so statistics stay untouched.
public final class ForwardContext: @unchecked Sendable {
    public var training: Bool
    public var updatesRunningStatistics: Bool
    public var rng: RandomGenerator

    public init(training: Bool, updatesRunningStatistics: Bool? = nil, seed: UInt64 = 0) {
        self.training = training
        self.updatesRunningStatistics = updatesRunningStatistics ?? training
        self.rng = RandomGenerator(seed: seed)
    }

    /// An evaluation context: no dropout, running statistics used and left untouched.
    public static func evaluation() -> ForwardContext { ForwardContext(training: false) }

    /// Rewrites values a forward pass feeds to another model detached (see `MetaLearning`'s `metaInput`):
    /// records them, or replays values recorded earlier; nil: they are plain detached copies.
    public var inputReplay: (any InputReplay)?
}

/// Something that sees, in order, the detached inputs of a forward pass and may substitute them (meta-net input
/// recording and replay for finite-difference hypergradients, in MetaLearning).
public protocol InputReplay: AnyObject {
    /// The tensor to use in place of `value` (already detached by the caller).
    func next(_ value: Tensor) -> Tensor
}
