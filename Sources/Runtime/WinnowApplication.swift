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
    /// Where the samples a run registered under `split` come from, read from the run's recorded recipe `recipe`
    /// (for `winnow export manifest --archive`); nil, the default, means the recipe's `dataset.archive`.
    static func sampleSource(split: String, recipe: RecipeNode) -> SampleSource?
}

extension WinnowApplication {
    public static var summary: String { "" }
    public static var headlineMetrics: [String] { ["test_accuracy"] }
    public static func sampleSource(split: String, recipe: RecipeNode) -> SampleSource? { nil }
}

/// The archive a run's registered samples are records of, when it is not the recipe's `dataset.archive` (say,
/// the auxiliary corpus of continued pretraining).
public struct SampleSource: Sendable, Equatable {
    /// The recipe key naming the archive, dotted (`dataset.corpus`).
    public var archiveKey: String
    /// The archive's splits holding the samples; nil: all of them.
    public var splits: [String]?
    /// The samples' keys are `<split>/<record id>` when the archive has several splits (else the record id).
    public var keysNameSplits: Bool

    /// Samples that are records of the archive the recipe names under `archiveKey`, in `splits` (nil: all).
    public init(archiveKey: String, splits: [String]? = nil, keysNameSplits: Bool = false) {
        self.archiveKey = archiveKey
        self.splits = splits
        self.keysNameSplits = keysNameSplits
    }
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

    /// Where the application called `application` says the samples of `split` come from (nil: `dataset.archive`,
    /// also for an application this build lacks).
    public func sampleSource(application: String, split: String, recipe: RecipeNode) -> SampleSource? {
        applications[application]?.sampleSource(split: split, recipe: recipe)
    }

    func lookup(_ name: String, origin: RecipeOrigin) throws -> any WinnowApplication.Type {
        if let type = applications[name] { return type }
        throw RecipeError.unknownApplication(
            name: name, origin: origin, available: names,
            suggestion: EditDistance.closest(to: name, in: names))
    }
}
