import Distributed
import Foundation
import Recipes
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

/// What an application gets besides its config: run id, seed, the store recorder, the progress display and
/// the ranks it runs on.
///
/// Under `mpirun` every rank runs the application with the same config and seed. Rank 0 owns the store and
/// draws progress; on the other ranks `recorder` writes to a scratch in-memory store that is thrown away and
/// `report` records nothing, so applications can call both unconditionally. Data-parallel applications:
/// pass `communicator` to `Engine` (it averages gradients), take `rank`/`size` shards of every global batch
/// (`EpochSampler.next(rank:worldSize:)`), gather per-sample results to rank 0 with `gatherSamples` before
/// recording them (`isRoot`), and add up sharded evaluation counts with `sum`.
public final class RunContext {
    public let runID: Int64
    public let seed: UInt64
    /// Writes weights, labels, scores, metrics and checkpoints for this run (rank 0's is the real one).
    public let recorder: RunRecorder
    public let progress: ProgressReporter
    /// The recipe file, to resolve paths relative to it if an application wants to.
    public let recipePath: String?
    public let databasePath: String
    /// The ranks of this run: one process unless launched under `mpirun`.
    public let communicator: any Communicator
    /// Testing aid: `WINNOW_FAULT_RANK` / `WINNOW_FAULT_STEP` make that rank throw at that reported step.
    private let fault: (rank: Int, step: Int)?

    public init(
        runID: Int64, seed: UInt64, recorder: RunRecorder, progress: ProgressReporter,
        recipePath: String?, databasePath: String, communicator: any Communicator = SingleProcessCommunicator(),
        resumeFrom: CheckpointInfo? = nil, injectedFault: (rank: Int, step: Int)? = nil
    ) {
        self.resumeFrom = resumeFrom
        self.runID = runID
        self.seed = seed
        self.recorder = recorder
        self.progress = progress
        self.recipePath = recipePath
        self.databasePath = databasePath
        self.communicator = communicator
        let environment = ProcessInfo.processInfo.environment
        if let injectedFault {
            fault = injectedFault
        } else if let rank = environment["WINNOW_FAULT_RANK"].flatMap(Int.init),
            let step = environment["WINNOW_FAULT_STEP"].flatMap(Int.init)
        {
            fault = (rank, step)
        } else {
            fault = nil
        }
    }

    /// The checkpoint a resumed run continues from (nil for a fresh run, or a resumed run that had none):
    /// load it and skip the steps up to `step`; the store holds nothing recorded after that step.
    public let resumeFrom: CheckpointInfo?

    /// Where this run's checkpoint for `step` goes: `checkpoints/<database name>-run-<id>/step-<step>.safetensors`
    /// next to the database (named after the database, so two databases in one folder keep theirs apart).
    public func checkpointURL(step: Int, fileExtension: String = "safetensors") -> URL {
        let database = URL(fileURLWithPath: databasePath)
        let name = database.deletingPathExtension().lastPathComponent
        return database.deletingLastPathComponent()
            .appendingPathComponent("checkpoints/\(name)-run-\(runID)/step-\(step).\(fileExtension)")
    }

    /// Where applications cache derived data that is costly to recompute (for example sentence embeddings):
    /// `cache/` next to the database, shared by every run and database in that folder (entries are keyed by
    /// their content).
    public var cacheDirectory: URL {
        URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("cache")
    }

    /// Saves a resumable checkpoint at `step`: rank 0 calls `write` with the file to write (atomically),
    /// records it in the store and then deletes the run's older checkpoint files; other ranks do nothing
    /// (replicas are identical). Call it on every rank after everything up to `step` is recorded. Applications
    /// whose checkpoints are not engine checkpoints name another `fileExtension` (data pruning's are `json`).
    public func saveCheckpoint(step: Int, fileExtension: String = "safetensors", write: (URL) throws -> Void) throws {
        guard isRoot else { return }
        let url = checkpointURL(step: step, fileExtension: fileExtension)
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try write(url)
        try recorder.recordCheckpoint(step: step, path: url.path)
        let older = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in older where name != url.lastPathComponent && name.hasPrefix("step-") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// The `winnow` executable as invoked (e.g. `.build/release/winnow`), for commands a run prints so they
    /// can be pasted; plain `winnow` when another program (a test runner) hosts the run.
    public var executable: String {
        CommandLine.arguments.first.flatMap { $0.hasSuffix("/winnow") || $0 == "winnow" ? $0 : nil } ?? "winnow"
    }

    /// This process's rank (0 without MPI).
    public var rank: Int { communicator.rank }
    /// The number of ranks.
    public var size: Int { communicator.size }
    /// Whether this rank writes results (rank 0).
    public var isRoot: Bool { communicator.isRoot }

    /// Per-sample values of this rank's samples (disjoint shards) gathered to rank 0, ordered by sample
    /// index; nil on the other ranks. With one process: the values sorted by index.
    public func gatherSamples(indices: [Int], values: [Float]) throws -> [(index: Int, value: Float)]? {
        try communicator.gatherSamples(indices: indices, values: values, root: 0)
    }

    /// Element-wise sum over ranks (e.g. `[correct, count]` of a sharded evaluation); the same on every rank.
    public func sum(_ values: [Double]) throws -> [Double] { try communicator.sum(values) }

    /// A sharded evaluation of `count` rows: each rank computes `sums(block)` on its block of rows and the
    /// element-wise sums over ranks are returned on every rank.
    public func shardedSum(count: Int, _ sums: (Range<Int>) throws -> [Double]) throws -> [Double] {
        try sum(sums(Sharding.block(count: count, rank: rank, size: size)))
    }

    /// One value per row of `count` rows, each rank computing `values(block)` for its block, gathered on rank 0
    /// in row order (nil on the other ranks).
    public func gatherRows(count: Int, _ values: (Range<Int>) throws -> [Float]) throws -> [Float]? {
        let block = Sharding.block(count: count, rank: rank, size: size)
        return try gatherSamples(indices: Array(block), values: values(block))?.map(\.value)
    }

    /// Throws the injected fault (`WINNOW_FAULT_RANK` / `WINNOW_FAULT_STEP`) when this rank reaches its step.
    /// `report` calls it for steps and evaluations; applications whose units of work record without `report`
    /// call it when a unit is done.
    public func checkInjectedFault(step: Int) throws {
        if let fault, fault.rank == rank, fault.step == step { throw InjectedFault(rank: rank, step: step) }
    }

    /// Records the event's metrics (or checkpoint) and updates the progress display (rank 0 only).
    public func report(_ event: TrainingEvent) throws {
        switch event {
        case let .step(step, _), let .evaluation(step, _): try checkInjectedFault(step: step)
        default: break
        }
        guard isRoot else { return }
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

/// The failure `WINNOW_FAULT_RANK` and `WINNOW_FAULT_STEP` ask for (tests of the failure path).
public struct InjectedFault: Error, LocalizedError, Equatable {
    public var rank: Int
    public var step: Int
    public var errorDescription: String? { "injected fault on rank \(rank) at step \(step) (WINNOW_FAULT_RANK/WINNOW_FAULT_STEP)" }
}
