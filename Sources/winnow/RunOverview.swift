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
    static func value(_ recipe: Recipe?, _ section: String, _ key: String) -> String? { RunFacts.value(recipe, section, key) }

    /// The run's method as `winnow runs` shows it (``RunFacts/method(_:)``).
    static func method(_ recipe: Recipe?) -> String? { RunFacts.method(recipe) }

    /// Seconds from start to end (to now for a run still going).
    static func duration(_ run: RunInfo) -> Double? { RunFacts.duration(run) }

    /// `name=value` of the first headline metric the run recorded.
    static func headline(_ run: RunInfo, names: [String]) -> ResultTable.Cell {
        guard let name = names.first(where: { run.metrics[$0] != nil }), let value = run.metrics[name] else { return .null }
        return .structured(
            json: "{\"\(name)\": \(ResultTable.Cell.double(value).json)}", plain: "\(name)=\(ResultTable.Cell.double(value).plain)")
    }
}
