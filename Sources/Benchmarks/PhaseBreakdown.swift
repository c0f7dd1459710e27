import MetaLearning

/// Time per base step by phase, from an engine's `PhaseClock`, as the benchmarks record and print it.
public enum PhaseBreakdown {
    /// The key of the time θ's gradient all-reduce kept a rank waiting after its backward.
    public static let communicationWait = "waiting for θ's all-reduce"
    /// The key of the time in no measured phase.
    public static let other = "other"
    /// The columns of a breakdown, in step order.
    public static let columns = StepPhase.allCases.map(\.rawValue) + [communicationWait, other]

    /// Milliseconds per step of each phase of `seconds` over `steps` base steps that took `totalSeconds`, the
    /// communication wait when there was one, and "other" for the rest (never below 0).
    public static func millisecondsPerStep(
        _ seconds: [StepPhase: Double], over steps: Int, totalSeconds: Double, waitSeconds: Double? = nil
    ) -> [String: Double] {
        let perStep = 1000 / Double(max(steps, 1))
        var breakdown = Dictionary(uniqueKeysWithValues: seconds.map { ($0.key.rawValue, $0.value * perStep) })
        if let waitSeconds { breakdown[communicationWait] = waitSeconds * perStep }
        let measured = seconds.values.reduce(0, +) + (waitSeconds ?? 0)
        breakdown[other] = max(0, totalSeconds - measured) * perStep
        return breakdown
    }

    /// A Markdown table: a row per labelled breakdown, a column per phase (ms per base step; "–" where a
    /// phase never ran), and the total.
    public static func table(_ rows: [(label: String, milliseconds: [String: Double])]) -> String {
        var lines = [
            "| configuration | " + columns.joined(separator: " | ") + " | total ms/step |",
            "|---|" + String(repeating: "---:|", count: columns.count + 1),
        ]
        for row in rows {
            let cells = columns.map { row.milliseconds[$0].map(benchmarkFigure) ?? "–" }
            let total = row.milliseconds.values.reduce(0, +)
            lines.append("| \(row.label) | " + cells.joined(separator: " | ") + " | \(benchmarkFigure(total)) |")
        }
        return lines.joined(separator: "\n")
    }
}
