import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import ArgumentParser
import Foundation
import MetaLearning

extension MetaMethod: ExpressibleByArgument {}

extension WeightNormalization: ExpressibleByArgument {
    /// `mean` or `weight_sum` (as in recipes); `weight-sum` is accepted too.
    public init?(argument: String) {
        self.init(rawValue: argument.replacingOccurrences(of: "-", with: "_"))
    }
}

/// The meta-learning options `bench meta` and `bench ddp` share; they fill the same `MetaSettings` a recipe's
/// `meta:` section does, so a key means the same thing in both.
struct MetaOptions: ParsableArguments {
    @Option(help: "SAMA / SAMA-NA / DARTS finite-difference radius α (ε = α/‖v‖), one setting for all three (recipes: meta.alpha).")
    var alpha: Float = 1
    @Flag(inversion: .prefixedNo, help: "SAMA / SAMA-NA: leave θ at θ − εv after each meta step (the paper's choice).")
    var baseUpdate = true
    @Flag(help: "SAMA / SAMA-NA / DARTS: perturb only the parameters the last base gradient touched (zero v elsewhere).")
    var touchedOnly = false
    @Flag(inversion: .prefixedNo, help: "SAMA / SAMA-NA / DARTS: feed the meta net the inputs recorded at θ in both perturbed passes.")
    var freezeMetaInputs = false
    @Option(help: "Base steps before the first meta step.") var warmup = 0
    @Option(help: "Weight normalisation: mean or weight_sum (default: the benchmark's).") var normalization: WeightNormalization?

    func validate() throws {
        guard alpha.isFinite, alpha > 0, alpha <= 1e4 else { throw ValidationError("--alpha must be in (0, 10000], got \(alpha)") }
        guard (0...1_000_000).contains(warmup) else { throw ValidationError("--warmup must be in 0…1000000, got \(warmup)") }
    }

    /// The settings for `method` at `unroll`, from the benchmark's `defaults` and these options.
    func settings(_ method: MetaMethod, unroll: Int, defaults: MetaSettings) -> MetaSettings {
        var meta = defaults
        meta.method = method
        meta.unroll = unroll
        meta.alpha = alpha
        meta.baseUpdateAlongV = baseUpdate
        meta.perturbTouchedOnly = touchedOnly
        meta.freezeMetaInputs = freezeMetaInputs
        meta.warmupSteps = warmup
        if let normalization { meta.normalization = normalization }
        return meta
    }
}

/// Comma-separated method names (`sama,darts`), each checked against the one list of methods.
func parseMethods(_ text: String, option: String = "--methods") throws -> [MetaMethod] {
    try text.split(separator: ",").map { name in
        guard let method = MetaMethod(rawValue: String(name)) else {
            let names = MetaMethod.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("\(option): unknown method '\(name)' (\(names))")
        }
        return method
    }
}

/// Comma-separated positive integers (`1,10`).
func parsePositiveIntegers(_ text: String, option: String) throws -> [Int] {
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
    guard !values.isEmpty, values.allSatisfy({ $0 >= 1 && $0 <= 1_000_000 }) else {
        throw ValidationError("\(option) must be integers in 1…1000000 separated by commas, got '\(text)'")
    }
    return values
}

/// `--single` (one configuration in this process, printed as JSON) and the hidden `--config` a parent
/// passes its children: the whole configuration as one JSON argument.
struct SingleRunOptions: ParsableArguments {
    @Flag(help: "Run one configuration (the first of each list option) in this process and print it as JSON.")
    var single = false
    @Option(
        help: ArgumentHelp(
            "With --single: the whole configuration as JSON (how the parent starts its children).",
            visibility: .hidden))
    var config: String?

    func validate() throws {
        if config != nil, !single { throw ValidationError("--config goes with --single") }
    }

    /// The configuration `--config` gives, else `fromOptions()`.
    func configuration<C: Decodable>(_ type: C.Type, fromOptions: () throws -> C) throws -> C {
        guard let config else { return try fromOptions() }
        do {
            return try JSONDecoder().decode(C.self, from: Data(config.utf8))
        } catch {
            throw ValidationError("--config: not a valid benchmark configuration (\(error))")
        }
    }
}
