import Foundation
import Recipes
import ResultStore

/// What listings and reports say about a run, read from its record and its recorded recipe: method, dataset,
/// duration, and the recipe as dotted keys.
public enum RunFacts {
    /// A scalar of the recorded recipe at `section.key`.
    public static func value(_ recipe: Recipe?, _ section: String, _ key: String) -> String? {
        guard let node = recipe?.root[section]?[key], !node.isNull else { return nil }
        return node.scalar
    }

    /// `meta.method`, with the data-pruning stage when the run is not a sweep; a continued-pretraining run's own
    /// `method` (with the engine's method when `sama` runs another one).
    public static func method(_ recipe: Recipe?) -> String? {
        let method = value(recipe, "meta", "method")
        if let own = recipe?.root["method"]?.scalar {
            if own == "sama", let method, method != "sama" { return "sama (\(method))" }
            return own
        }
        guard let stage = recipe?.root["stage"]?.scalar, stage != "sweep" else { return method }
        return stage == "score" ? method.map { "\($0) (score)" } : stage
    }

    /// Seconds from start to end (to now for a run still going), to a tenth.
    public static func duration(_ run: RunInfo) -> Double? {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let start = parser.date(from: run.startedAt) else { return nil }
        let end = run.endedAt.flatMap(parser.date(from:)) ?? (run.status == .running ? Date() : nil)
        return end.map { ($0.timeIntervalSince(start) * 10).rounded() / 10 }
    }

    /// Whether a metric is an accuracy given as a fraction: its name says `accuracy` and every value is in 0…1.
    public static func isAccuracy(_ name: String, _ values: [Double]) -> Bool {
        name.contains("accuracy") && values.allSatisfy { !$0.isFinite || (0...1).contains($0) }
    }

    /// Every scalar of a recipe tree under its dotted key (`training.epochs`); a list of scalars is one value
    /// (`[1, 2]`), other lists are flattened per item (`key[0].field`).
    public static func flatten(_ node: RecipeNode, prefix: String = "") -> [(key: String, value: String)] {
        switch node.value {
        case .scalar(let text, _):
            return [(prefix, node.isNull ? "null" : text)]
        case .mapping(let entries):
            return entries.flatMap { flatten($0.node, prefix: prefix.isEmpty ? $0.key : "\(prefix).\($0.key)") }
        case .sequence(let items):
            if items.allSatisfy({ $0.scalar != nil }) {
                return [(prefix, "[" + items.map { $0.isNull ? "null" : $0.scalar! }.joined(separator: ", ") + "]")]
            }
            return items.enumerated().flatMap { flatten($0.element, prefix: "\(prefix)[\($0.offset)]") }
        }
    }
}
