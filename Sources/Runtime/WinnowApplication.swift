import Foundation
import Recipes
import ResultStore

/// An application `winnow run` can start from a recipe.
///
///     struct NoisyLabels: WinnowApplication {
///         static let name = "noisy-labels"                  // the recipe's `application:` value
///         struct Config: RecipeConfig { var epochs = 10; var learningRate = 1e-3 }
///         static func run(_ config: Config, context: RunContext) throws -> RunSummary {
///             context.progress.start("training", total: config.epochs)
///             for epoch in 1...config.epochs {
///                 // ... train ...
///                 try context.report(.step(epoch, metrics: ["loss": loss]))
///                 try context.recorder.recordWeights(weights, step: epoch)
///             }
///             return RunSummary(metrics: ["accuracy": accuracy])
///         }
///     }
///
/// then add `NoisyLabels.self` to `ApplicationRegistry.builtIn` (the executable's `BuiltInApplications.swift`).
/// The config is decoded and validated before `run` is called; anything `run` throws marks the run failed in the store.
public protocol WinnowApplication: SendableMetatype {
    associatedtype Config: RecipeConfig
    /// The recipe's `application:` value (kebab-case).
    static var name: String { get }
    /// One line for listings.
    static var summary: String { get }
    /// The metrics `winnow runs` shows as a run's headline, in order of preference (the first the run recorded).
    static var headlineMetrics: [String] { get }
    static func run(_ config: Config, context: RunContext) throws -> RunSummary
}

extension WinnowApplication {
    public static var summary: String { "" }
    public static var headlineMetrics: [String] { ["test_accuracy"] }
}

/// What a finished application reports: final metrics (stored as the run's metrics JSON) and notes.
public struct RunSummary: Sendable, Equatable {
    public var metrics: [String: Double]
    public var notes: [String]
    public init(metrics: [String: Double] = [:], notes: [String] = []) {
        self.metrics = metrics
        self.notes = notes
    }
}

/// Maps `application:` names to application types.
public struct ApplicationRegistry: Sendable {
    public private(set) var applications: [String: any WinnowApplication.Type] = [:]

    public init(_ types: [any WinnowApplication.Type] = []) {
        for type in types { register(type) }
    }

    public mutating func register(_ type: any WinnowApplication.Type) {
        precondition(applications[type.name] == nil, "two applications are named '\(type.name)'")
        applications[type.name] = type
    }

    public var names: [String] { applications.keys.sorted() }

    /// The headline metric names of the application called `name` (`test_accuracy` for one this build lacks).
    public func headlineMetrics(for name: String) -> [String] {
        applications[name]?.headlineMetrics ?? ["test_accuracy"]
    }

    func lookup(_ name: String, origin: RecipeOrigin) throws -> any WinnowApplication.Type {
        if let type = applications[name] { return type }
        throw RecipeError.unknownApplication(
            name: name, origin: origin, available: names,
            suggestion: EditDistance.closest(to: name, in: names))
    }
}
