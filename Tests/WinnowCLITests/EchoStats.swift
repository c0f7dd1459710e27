import Recipes
import Runtime
import Foundation
import ResultStore

/// A tiny real application, for tests only (not shipped): it "learns" weights that are the configured values
/// scaled by the step, scores samples by value, corrects labels by thresholding at the mean, and reports
/// the mean as its metric. `fail_at_step` makes it throw, to test failure marking.
struct EchoStats: WinnowApplication {
    static let name = "echo-stats"
    static let summary = "Echo summary statistics of a list of numbers (test application)."

    enum Reduction: String, RecipeChoice { case mean, sum }

    struct Training: Codable, Sendable, Equatable {
        var steps = 3
        var scale = 1.0
    }

    struct Config: RecipeConfig, Equatable {
        var values: [Double] = [1, 2, 3, 4]
        var training = Training()
        var reduction = Reduction.mean
        var failAtStep: Int? = nil
        var label: String = "default"
        /// Save a small checkpoint file at every step (RunContext keeps only the newest file).
        var checkpoint = false

        func validate() throws {
            guard training.steps >= 1 else { throw InvalidSetting("training.steps", "must be at least 1, got \(training.steps)") }
            guard !values.isEmpty else { throw InvalidSetting("values", "must list at least one number") }
        }
    }

    struct Failure: Error, LocalizedError {
        var step: Int
        var errorDescription: String? { "echo-stats was told to fail at step \(step)" }
    }

    static func run(_ config: Config, context: RunContext) throws -> RunSummary {
        context.progress.start("echo", total: config.training.steps)
        let total = config.values.reduce(0, +)
        let reduced = config.reduction == .mean ? total / Double(config.values.count) : total
        for step in 1...config.training.steps {
            let weights = config.values.map { $0 * config.training.scale * Double(step) }
            try context.recorder.recordWeights(weights, step: step)
            try context.report(.step(step, metrics: ["reduced": reduced * Double(step)]))
            if config.checkpoint { try context.saveCheckpoint(step: step) { try Data("step \(step)".utf8).write(to: $0) } }
            if step == config.failAtStep { throw Failure(step: step) }
        }
        try context.recorder.recordScores(config.values)
        let mean = total / Double(config.values.count)
        try context.recorder.recordLabels(
            config.values.enumerated().map { index, value in
                let corrected = value > mean ? 1 : 0
                let p = value > mean ? Float(0.8) : Float(0.2)
                return CorrectedLabel(sampleID: index, originalLabel: index % 2, correctedLabel: corrected, distribution: [1 - p, p])
            })
        return RunSummary(
            metrics: ["reduced": reduced, "count": Double(config.values.count), "seed": Double(context.seed)],
            notes: ["label=\(config.label)"])
    }
}

let testRegistry = ApplicationRegistry([EchoStats.self])

/// A fresh temporary folder per test, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
