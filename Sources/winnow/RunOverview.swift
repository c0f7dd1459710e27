import Foundation
import Recipes
import ResultStore
import Runtime

/// What `winnow runs` shows of each run: application, method, dataset, status, duration and the application's
/// headline metric (read from the recipe the run recorded), then every final metric.
enum RunOverview {
    static func table(_ runs: [RunInfo], checkpoints: [Int64: CheckpointUsage]?, registry: ApplicationRegistry) -> ResultTable {
        let columns =
            ["id", "application", "method", "dataset", "status", "started_at", "duration_s", "headline", "code_revision"]
            + (checkpoints == nil ? [] : ["checkpoints"]) + ["metrics", "error"]
        return ResultTable(
            columns: columns,
            rows: runs.map { run in
                let recipe = try? Recipe(yaml: run.recipe, source: "run \(run.id)")
                var row: [ResultTable.Cell] = [
                    .int(run.id), .text(run.application), text(method(recipe)), text(value(recipe, "dataset", "archive")),
                    .text(run.status.rawValue), .text(run.startedAt), duration(run).map(ResultTable.Cell.double) ?? .null,
                    headline(run, names: registry.headlineMetrics(for: run.application)), .text(run.codeRevision),
                ]
                if let checkpoints { row.append(checkpoints[run.id].map(ResultTable.checkpointCell) ?? .null) }
                return row + [ResultTable.metricsCell(run.metrics), run.error.map(ResultTable.Cell.text) ?? .null]
            })
    }

    private static func text(_ value: String?) -> ResultTable.Cell { value.map(ResultTable.Cell.text) ?? .null }

    /// A scalar of the recorded recipe at `section.key`.
    static func value(_ recipe: Recipe?, _ section: String, _ key: String) -> String? {
        guard let node = recipe?.root[section]?[key], !node.isNull else { return nil }
        return node.scalar
    }

    /// `meta.method`, with the data-pruning stage when the run is not a sweep; a continued-pretraining run's own
    /// `method` (with the engine's method when `sama` runs another one).
    static func method(_ recipe: Recipe?) -> String? {
        let method = value(recipe, "meta", "method")
        if let own = recipe?.root["method"]?.scalar {
            if own == "sama", let method, method != "sama" { return "sama (\(method))" }
            return own
        }
        guard let stage = recipe?.root["stage"]?.scalar, stage != "sweep" else { return method }
        return stage == "score" ? method.map { "\($0) (score)" } : stage
    }

    /// Seconds from start to end (to now for a run still going).
    static func duration(_ run: RunInfo) -> Double? {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let start = parser.date(from: run.startedAt) else { return nil }
        let end = run.endedAt.flatMap(parser.date(from:)) ?? (run.status == .running ? Date() : nil)
        return end.map { ($0.timeIntervalSince(start) * 10).rounded() / 10 }
    }

    /// `name=value` of the first headline metric the run recorded.
    static func headline(_ run: RunInfo, names: [String]) -> ResultTable.Cell {
        guard let name = names.first(where: { run.metrics[$0] != nil }), let value = run.metrics[name] else { return .null }
        return .structured(
            json: "{\"\(name)\": \(ResultTable.Cell.double(value).json)}", plain: "\(name)=\(ResultTable.Cell.double(value).plain)")
    }
}
