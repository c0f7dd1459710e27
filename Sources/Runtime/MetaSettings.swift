import Foundation
import MetaLearning
import Recipes

extension MetaMethod: RecipeChoice {}
extension WeightNormalization: RecipeChoice {}

/// The meta-learning settings every bilevel application shares (the recipe's `meta:` section, and the
/// configuration `winnow bench meta` / `bench ddp` hand their children): the hypergradient method and its
/// parameters, the meta optimizer, unroll, warm-up and how weights combine losses. Decoded and validated
/// once here; `hypergradient()` and `engineConfiguration(seed:)` are the only mappings to the engine.
///
/// An application with meta-net switches of its own adds them beside these keys with `MetaSection`.
public struct MetaSettings: Codable, Sendable, Equatable {
    /// finetune, sama, sama-na, darts, neumann or cg.
    public var method = MetaMethod.sama
    /// SAMA / SAMA-NA / DARTS: the central difference's radius α (ε = α/‖v‖), the same key for all three.
    public var alpha: Float = 1
    /// SAMA / SAMA-NA: leave θ at θ − εv after a meta step (the paper's choice).
    public var baseUpdateAlongV = true
    /// SAMA / SAMA-NA / DARTS: perturb only the parameters the last base batch touched
    /// (`Engine.Configuration.perturbTouchedParametersOnly`; matters for embedding tables).
    public var perturbTouchedOnly = true
    /// SAMA / SAMA-NA / DARTS: feed the meta nets the inputs recorded at θ in both perturbed passes; off, as in
    /// the paper's implementation (`SAMA.freezeMetaInputs`).
    public var freezeMetaInputs = false
    /// Neumann / CG iterations.
    public var iterations = 1
    /// Neumann's step size.
    public var neumannAlpha: Float = 1
    /// Base steps per meta step.
    public var unroll = 10
    /// Base steps before the first meta step.
    public var warmupSteps = 0
    /// The meta optimizer (Adam) learning rate.
    public var learningRate: Float = 1e-3
    /// Samples per meta batch.
    public var batchSize = 32
    /// How weights combine per-sample losses: `weight_sum` (Σ w·ℓ / Σ w) or `mean` ((1/N) Σ w·ℓ).
    public var normalization = WeightNormalization.weightSum

    public init() {}

    /// The engine's hypergradient method with these parameters.
    public func hypergradient() -> any Hypergradient {
        switch method {
        case .finetune: Finetune()
        case .sama: SAMA(alpha: alpha, baseUpdateAlongV: baseUpdateAlongV, freezeMetaInputs: freezeMetaInputs)
        case .samaNA: SAMANA(alpha: alpha, baseUpdateAlongV: baseUpdateAlongV, freezeMetaInputs: freezeMetaInputs)
        case .darts: DARTS(alpha: alpha, freezeMetaInputs: freezeMetaInputs)
        case .neumann: Neumann(iterations: iterations, alpha: neumannAlpha)
        case .cg: ConjugateGradient(iterations: iterations)
        }
    }

    /// Whether meta steps run (every method but `finetune`).
    public var learnsMeta: Bool { method != .finetune }

    /// The engine's settings, with `seed` for the engine's generator (dropout, meta batches' contexts).
    public func engineConfiguration<Program: BilevelProgram>(
        seed: UInt64, clipNorm: Float? = nil,
        for _: Program.Type = Program.self
    ) -> Engine<Program>.Configuration {
        var c = Engine<Program>.Configuration(
            method: hypergradient(), unroll: unroll, warmupSteps: warmupSteps,
            clipNorm: clipNorm, seed: seed)
        c.perturbTouchedParametersOnly = perturbTouchedOnly
        return c
    }

    /// Checks every value against its documented range; `prefix` is the recipe section (`meta`).
    public func validate(prefix: String = "meta") throws {
        let key = { (name: String) in "\(prefix).\(name)" }
        try SettingRange.check(unroll, in: 1...1_000_000, key("unroll"))
        try SettingRange.check(warmupSteps, in: 0...1_000_000_000, key("warmup_steps"))
        try SettingRange.check(iterations, in: 1...1_000, key("iterations"))
        try SettingRange.check(batchSize, in: 1...1_000_000, key("batch_size"))
        try SettingRange.check(alpha, in: 1e-8...1e4, key("alpha"))
        try SettingRange.check(neumannAlpha, in: 1e-8...1e4, key("neumann_alpha"))
        try SettingRange.check(learningRate, in: 1e-12...10, key("learning_rate"))
    }
}

/// Range checks for recipe settings: a value outside its range (or NaN) is an `InvalidSetting` naming the key
/// and the range.
public enum SettingRange {
    /// The ranges of the base training keys every application has: `training.epochs` 1…100,000,
    /// `training.batch_size` 1…10⁶, `training.learning_rate` 1e-12…10, `training.weight_decay` 0…10.
    public static func checkTraining(epochs: Int, batchSize: Int, learningRate: Float, weightDecay: Float) throws {
        try check(epochs, in: 1...100_000, "training.epochs")
        try check(batchSize, in: 1...1_000_000, "training.batch_size")
        try check(learningRate, in: 1e-12...10, "training.learning_rate")
        try check(weightDecay, in: 0...10, "training.weight_decay")
    }

    public static func check(_ value: Int, in range: ClosedRange<Int>, _ key: String) throws {
        guard range.contains(value) else {
            throw InvalidSetting(key, "must be in \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
    }

    public static func check<F: BinaryFloatingPoint>(_ value: F, in range: ClosedRange<F>, _ key: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw InvalidSetting(key, "must be a number in \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
    }
}

/// A recipe section that holds the shared `MetaSettings` and an application's own keys side by side
/// (`meta.method`, `meta.unroll` … next to, say, `meta.reweight`). Both read and write the same mapping;
/// members of either are reachable directly (`config.meta.unroll`, `config.meta.reweight`).
@dynamicMemberLookup
public struct MetaSection<Extra: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var settings: MetaSettings
    public var extra: Extra

    public init(_ settings: MetaSettings = MetaSettings(), _ extra: Extra) {
        self.settings = settings
        self.extra = extra
    }

    public init(from decoder: any Decoder) throws {
        settings = try MetaSettings(from: decoder)
        extra = try Extra(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        try extra.encode(to: encoder)
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<MetaSettings, T>) -> T {
        get { settings[keyPath: key] }
        set { settings[keyPath: key] = newValue }
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<Extra, T>) -> T {
        get { extra[keyPath: key] }
        set { extra[keyPath: key] = newValue }
    }
}

/// Checks before any work that a model's parameters, with gradients and optimizer state, fit in the memory
/// this machine has.
public enum ModelMemory {
    /// Bytes per parameter while training: the value, its gradient, two Adam moments and the meta step's
    /// perturbation direction (Float32 each).
    public static let bytesPerParameter = 5 * MemoryLayout<Float>.size

    /// Throws an `InvalidSetting` naming `key` when `parameters` would need more than the physical memory.
    public static func check(
        parameters: Int, key: String,
        available: UInt64 = ProcessInfo.processInfo.physicalMemory
    ) throws {
        let (bytes, overflow) = parameters.multipliedReportingOverflow(by: bytesPerParameter)
        guard !overflow, UInt64(bytes) <= available else {
            let gib = { (b: Double) in String(format: "%.1f GiB", b / 1_073_741_824) }
            throw InvalidSetting(
                key,
                "asks for about \(parameters) parameters (\(overflow ? "more than any machine has" : gib(Double(bytes)))"
                    + " to train), more than this machine's \(gib(Double(available))) of memory")
        }
    }
}
