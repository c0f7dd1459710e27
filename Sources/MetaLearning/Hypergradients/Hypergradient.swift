import Foundation
import NeuralNetworks
import Optimizers
import Tensors

/// The hypergradient methods by name: the one list that recipes (`meta.method`), `winnow bench` and the
/// command line share. `MetaMethodSettings.hypergradient()` (in the runtime) turns a name and its parameters
/// into one of the `Hypergradient` types below.
public enum MetaMethod: String, CaseIterable, Codable, Sendable {
    case finetune, sama, samaNA = "sama-na", darts, neumann, cg
}

/// How the engine computes dL_meta/dλ at a meta step (docs/ALGORITHMS.md §2–4). One type per method:
/// `Finetune`, `SAMA`, `SAMANA`, `DARTS`, `Neumann`, `ConjugateGradient`. Each holds its own parameters;
/// the passes it needs (meta gradient, replayed base losses, the λ all-reduce) come from `MetaStepPasses`.
public protocol Hypergradient: Sendable, CustomStringConvertible {
    /// The method's name in recipes and reports.
    var method: MetaMethod { get }
    /// Whether meta steps run at all (false only for `Finetune`, where λ never changes).
    var learnsMeta: Bool { get }
    /// Whether it reads the base optimizer's adaptation A = ∂u/∂g of the last step (SAMA only): the engine
    /// keeps that state until the method has used it.
    var usesAdaptation: Bool { get }
    /// dL_meta/dλ at the current θ from the shared passes. With several ranks the result may already be the
    /// mean over ranks (`MetaStepResult.reduced`); the engine reduces it otherwise.
    func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult
}

extension Hypergradient {
    public var learnsMeta: Bool { true }
    public var usesAdaptation: Bool { false }
    public var description: String { method.rawValue }
}

/// No meta learning: λ never changes (the plain-training baseline).
public struct Finetune: Hypergradient {
    public init() {}
    public var method: MetaMethod { .finetune }
    public var learnsMeta: Bool { false }
    public func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        MetaStepResult(
            hypergradient: passes.program.meta.tensors.map { Tensor.zeros($0.shape) }, metaLoss: .nan,
            epsilon: nil, reduced: true)
    }
}

extension Hypergradient where Self == Finetune {
    /// No meta learning.
    public static var finetune: Finetune { Finetune() }
}

/// What one meta step produced, for observers and tests.
public struct MetaStepResult: Sendable {
    /// dL_meta/dλ, one tensor per meta parameter (key order).
    public var hypergradient: [Tensor]
    /// L_meta at the θ where the hypergradient was evaluated.
    public var metaLoss: Float
    /// The finite-difference radius ε (SAMA family), or nil.
    public var epsilon: Float?
    /// Whether `hypergradient` is already the mean over ranks (always true with one rank).
    public var reduced: Bool = false
}
