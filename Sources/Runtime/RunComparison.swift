import Foundation
import Recipes
import ResultStore

/// Two or more runs side by side (`winnow report --compare`): what each is, the final metrics they all recorded
/// with each run's difference to the first, the recipe keys whose values differ, and which per-step metrics they
/// share for curves.
public struct RunComparison: Sendable {
    /// One run's facts, read from its record and its recorded recipe.
    public struct Column: Sendable {
        /// The run as recorded.
        public var run: RunInfo
        /// `meta.method` and its variants (see ``RunFacts/method(_:)``).
        public var method: String?
        /// `dataset.archive`.
        public var dataset: String?
        /// Seconds from start to end.
        public var duration: Double?
    }

    /// A final metric every run recorded.
    public struct MetricRow: Sendable, Equatable {
        /// The metric's name.
        public var name: String
        /// One per run, in the order compared.
        public var values: [Double]
        /// Whether the metric is an accuracy (a fraction; differences are also given in points).
        public var isAccuracy: Bool
        /// Each run's value minus the first run's (the first is 0).
        public var differences: [Double] { values.map { $0 - values[0] } }
    }

    /// A recipe key (dotted; list items as `key[i]`) whose value is not the same in every run.
    public struct RecipeDifference: Sendable, Equatable {
        /// The dotted key.
        public var key: String
        /// One per run, nil where the run's recipe lacks the key.
        public var values: [String?]
    }

    /// The most per-step metrics drawn.
    public static let maximumCurves = 8

    /// The runs, in the order asked for; the first is the one the others are compared to.
    public var columns: [Column]
    /// The final metrics every run recorded: headline metrics first, then by name.
    public var metrics: [MetricRow]
    /// The recipe keys whose values differ, in the first recipe's order, then the others'.
    public var recipeDifferences: [RecipeDifference]
    /// Names of metrics every run recorded by step (at least two steps in one of them): headline metrics first,
    /// then by name, at most ``maximumCurves``.
    public var curveMetrics: [String]
    /// Per run, per curve metric, its (step, value) points.
    public var curves: [[String: [(x: Double, y: Double)]]]

    /// Reads `runIDs` (two or more, no repeats) from `store`; throws `StoreError.runNotFound` for an unknown id.
    public init(store: ResultStore, runs runIDs: [Int64], registry: ApplicationRegistry) throws {
        guard runIDs.count >= 2 else { throw StoreError.invalidArgument("--compare needs at least 2 runs, got \(runIDs.count)") }
        if let repeated = runIDs.first(where: { id in runIDs.filter { $0 == id }.count > 1 }) {
            throw StoreError.invalidArgument("--compare lists run \(repeated) twice")
        }
        let runs = try runIDs.map { try store.run($0) }
        let recipes = runs.map { try? Recipe(yaml: $0.recipe, source: "run \($0.id)") }
        columns = zip(runs, recipes).map { run, recipe in
            Column(
                run: run, method: RunFacts.method(recipe), dataset: RunFacts.value(recipe, "dataset", "archive"),
                duration: RunFacts.duration(run))
        }
        var headline: [String] = []
        for run in runs {
            for name in registry.headlineMetrics(for: run.application) where !headline.contains(name) { headline.append(name) }
        }
        let order = { (names: Set<String>) -> [String] in
            headline.filter(names.contains) + names.subtracting(headline).sorted()
        }
        let shared = runs.dropFirst().reduce(Set(runs[0].metrics.keys)) { $0.intersection($1.metrics.keys) }
        metrics = order(shared).map { name in
            let values = runs.map { $0.metrics[name]! }
            return MetricRow(name: name, values: values, isAccuracy: RunFacts.isAccuracy(name, values))
        }
        recipeDifferences = Self.differences(recipes.map { $0.map { RunFacts.flatten($0.root) } ?? [] })
        var perRun: [[String: [(x: Double, y: Double)]]] = []
        for run in runs {
            let points = try store.metrics(run: run.id)
            perRun.append(
                Dictionary(grouping: points, by: \.name).mapValues { named in
                    named.compactMap { p in p.value.map { (x: Double(p.step), y: $0) } }.sorted { $0.x < $1.x }
                })
        }
        let everywhere = perRun.dropFirst().reduce(Set(perRun[0].keys)) { $0.intersection($1.keys) }
            .filter { name in !EpochBookkeeping.contains(name) }
            .filter { name in perRun.allSatisfy { !($0[name] ?? []).isEmpty } && perRun.contains { ($0[name] ?? []).count >= 2 } }
        let drawn = Array(order(everywhere).prefix(Self.maximumCurves))
        curveMetrics = drawn
        curves = perRun.map { run in run.filter { drawn.contains($0.key) } }
    }

    /// Keys whose values are not equal in every flattened recipe, in the first recipe's order, then the others'.
    static func differences(_ flattened: [[(key: String, value: String)]]) -> [RecipeDifference] {
        var keys: [String] = []
        var seen = Set<String>()
        for recipe in flattened { for entry in recipe where seen.insert(entry.key).inserted { keys.append(entry.key) } }
        let lookups = flattened.map { Dictionary($0.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }) }
        return keys.compactMap { key in
            let values = lookups.map { $0[key] }
            return Set(values.map { $0 ?? "\u{0}" }).count > 1 ? RecipeDifference(key: key, values: values) : nil
        }
    }
}
