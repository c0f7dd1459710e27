import Foundation
import Recipes
import ResultStore

/// How `winnow run` prints a finished (or failed) run.
public enum RunReport {
    /// One JSON object on one line: run id, application, status, final metrics, notes, database path.
    public static func json(_ outcome: RunOutcome) -> String {
        "{\"run_id\": \(outcome.runID), \"application\": \(JSONText.string(outcome.application)), \"status\": \"completed\", "
            + "\"metrics\": \(JSONText.object(outcome.summary.metrics)), \"notes\": \(JSONText.array(outcome.summary.notes)), "
            + "\"database\": \(JSONText.string(outcome.databasePath))}"
    }

    public static func json(failure: ApplicationFailure) -> String {
        "{\"run_id\": \(failure.runID), \"application\": \(JSONText.string(failure.application)), \"status\": \"failed\", "
            + "\"error\": \(JSONText.string(failure.underlying.localizedDescription)), "
            + "\"database\": \(JSONText.string(failure.databasePath))}"
    }

    public static func text(_ outcome: RunOutcome) -> String {
        var text = "run \(outcome.runID) (\(outcome.application)) completed; results in \(outcome.databasePath)\n"
        for name in outcome.summary.metrics.keys.sorted() {
            text += "  \(name): \(String(format: "%.6g", outcome.summary.metrics[name]!))\n"
        }
        for note in outcome.summary.notes { text += "  note: \(note)\n" }
        return text
    }
}
