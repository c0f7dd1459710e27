import Foundation
import ResultStore

/// Typed progress events an application reports; the context records their metrics in the store and draws
/// them on the progress display.
public enum TrainingEvent: Sendable {
    /// `step` training steps (or epochs) are done; the metrics are recorded at that step.
    case step(Int, metrics: [String: Double] = [:])
    /// An evaluation at `step`; record names such as `val_accuracy`.
    case evaluation(step: Int, metrics: [String: Double])
    /// A meta (outer-level) step with its metrics.
    case metaStep(Int, metrics: [String: Double] = [:])
    /// A checkpoint written to `path` at `step`.
    case checkpoint(step: Int, path: String)
    /// A line of text for the user.
    case message(String)
}

/// What an application gets besides its config: run id, seed, the store recorder and the progress display.
public final class RunContext {
    public let runID: Int64
    public let seed: UInt64
    /// Writes weights, labels, scores, metrics and checkpoints for this run.
    public let recorder: RunRecorder
    public let progress: ProgressReporter
    /// The recipe file, to resolve paths relative to it if an application wants to.
    public let recipePath: String?
    public let databasePath: String

    public init(runID: Int64, seed: UInt64, recorder: RunRecorder, progress: ProgressReporter,
                recipePath: String?, databasePath: String) {
        self.runID = runID
        self.seed = seed
        self.recorder = recorder
        self.progress = progress
        self.recipePath = recipePath
        self.databasePath = databasePath
    }

    /// Records the event's metrics (or checkpoint) and updates the progress display.
    public func report(_ event: TrainingEvent) throws {
        switch event {
        case .step(let step, let metrics):
            try recorder.recordMetrics(metrics, step: step)
            progress.update(completed: step, metrics: metrics)
        case .evaluation(let step, let metrics):
            try recorder.recordMetrics(metrics, step: step)
            progress.log("evaluation at step \(step): " + ProgressReporter.format(metrics))
        case .metaStep(let step, let metrics):
            try recorder.recordMetrics(metrics, step: step)
            progress.update(completed: nil, metrics: metrics)
        case .checkpoint(let step, let path):
            try recorder.recordCheckpoint(step: step, path: path)
            progress.log("checkpoint at step \(step): \(path)")
        case .message(let text):
            progress.log(text)
        }
    }
}
