import Distributed
import Foundation
import Recipes
import ResultStore

/// What `winnow run` asks for.
public struct RunRequest: Sendable {
    public var recipePath: String
    public var overrides: [String]
    public var databasePath: String
    public var progress: ProgressReporter.Style
    /// Called with the run id once the run is recorded as `running` (the CLI arms its interrupt handler here).
    public var onRunStarted: (@Sendable (Int64) -> Void)?
    /// The ranks to run on (one process by default; the CLI passes MPI's world under `mpirun`).
    public var communicator: any Communicator = SingleProcessCommunicator()
    /// Resume this failed run from its latest checkpoint with the recipe it recorded (`recipePath` and
    /// `overrides` are then unused and must be empty).
    public var resumeRunID: Int64?
    /// Resume a run still marked running (its process died without marking it failed).
    public var forceResume = false
    /// Testing aid: make `rank` throw when it reports `step` (as `WINNOW_FAULT_RANK` / `WINNOW_FAULT_STEP`).
    public var injectedFault: (rank: Int, step: Int)?

    public init(
        recipePath: String, overrides: [String] = [], databasePath: String = ResultStore.defaultPath,
        progress: ProgressReporter.Style = .silent
    ) {
        self.recipePath = recipePath
        self.overrides = overrides
        self.databasePath = databasePath
        self.progress = progress
    }
}

/// A finished run.
public struct RunOutcome: Sendable, Equatable {
    public var runID: Int64
    public var application: String
    public var summary: RunSummary
    public var databasePath: String
}

/// An application threw after its run was recorded; the run is marked failed in the store.
public struct ApplicationFailure: Error, LocalizedError {
    public var runID: Int64
    public var application: String
    public var databasePath: String
    public var underlying: any Error
    /// The rank that failed; only rank 0 writes to the store (under mpirun, SIGTERM marks rank 0's run failed).
    public var rank: Int = 0

    public var errorDescription: String? {
        "run \(runID) (\(application)) failed: \(underlying.localizedDescription)"
            + (rank == 0 ? " [marked failed in \(databasePath)]" : "")
    }
}

/// Loads a recipe, validates it, records a run and runs the application.
public enum ApplicationRunner {
    /// Everything that can be checked without running is checked before the run is recorded: the recipe
    /// file, overrides, application name, config keys, types and `validate()`. Those throw `RecipeError`.
    public static func run(_ request: RunRequest, registry: ApplicationRegistry) throws -> RunOutcome {
        if let runID = request.resumeRunID { return try resume(runID, request: request, registry: registry) }
        var recipe = try Recipe.load(contentsOf: request.recipePath)
        try recipe.apply(overrides: request.overrides)
        let (name, origin) = try recipe.application()
        let application = try registry.lookup(name, origin: origin)
        return try run(application, recipe: recipe, request: request)
    }

    /// Resumes a failed run: every rank reads the run's recorded recipe and latest checkpoint from the
    /// database (under mpirun across machines, `--db` must be a path every rank can read), checks the same
    /// things, and rank 0 reopens the run.
    static func resume(_ runID: Int64, request: RunRequest, registry: ApplicationRegistry) throws -> RunOutcome {
        guard request.overrides.isEmpty else {
            throw RunNotResumable(runID: runID, reason: "a resumed run keeps its recorded recipe; drop the --set overrides")
        }
        let (info, checkpoint, owner, ranks) = try {
            let reader = try ResultStore(path: request.databasePath, mode: .existing)
            return (
                try reader.run(runID), try reader.latestCheckpoint(run: runID), RunOwnerLock.owner(store: reader, run: runID),
                RunOwnerLock.recordedRanks(store: reader, run: runID)
            )
        }()
        // Batches are sharded by rank and the samplers' positions are global: another rank count would train on
        // other batches than the interrupted run, so it is refused.
        if let ranks, ranks != request.communicator.size {
            throw RunNotResumable(
                runID: runID,
                reason: "it ran on \(ranks) rank\(ranks == 1 ? "" : "s") and this resume has "
                    + "\(request.communicator.size): resume it with the same count (mpirun -np \(ranks))")
        }
        // A run still marked running whose process has ended (its lock is free: killed, machine rebooted) is
        // resumed like a failed one; one whose process is alive, or unknown, needs --force.
        var request = request
        if info.status == .running, owner == .gone {
            request.forceResume = true
        } else if info.status == .running, owner == .alive, !request.forceResume {
            throw RunNotResumable(runID: runID, reason: "its process is still running (it holds the run's lock)")
        }
        try info.checkResumable(force: request.forceResume)
        if let path = checkpoint?.path, !FileManager.default.fileExists(atPath: path) {
            throw RunNotResumable(runID: runID, reason: "its checkpoint \(path) is missing")
        }
        // Every rank has read the run as it was before rank 0 reopens it.
        try request.communicator.barrier()
        let recipe = try Recipe(yaml: info.recipe, source: info.recipePath ?? "run \(runID)")
        let (name, origin) = try recipe.application()
        let application = try registry.lookup(name, origin: origin)
        return try run(application, recipe: recipe, request: request, resuming: (runID, checkpoint))
    }

    static func run<A: WinnowApplication>(
        _ application: A.Type, recipe: Recipe, request: RunRequest,
        resuming: (runID: Int64, checkpoint: CheckpointInfo?)? = nil
    ) throws -> RunOutcome {
        let config = try recipe.decode(A.Config.self)
        let seed = try recipe.seed()
        // Rank 0 owns the store; the other ranks record into a scratch in-memory store and take rank 0's run id.
        let communicator = request.communicator
        let store = try ResultStore(path: communicator.isRoot ? request.databasePath : ":memory:")
        // Rank 0 records where the run runs, when it starts (a resumed run keeps the environment it started in).
        let environment = communicator.isRoot ? RunEnvironment.current(ranks: communicator.size) : nil
        let descriptor = RunDescriptor(
            application: A.name,
            recipe: Recipe.effectiveYAML(application: A.name, seed: seed, config: config),
            recipePath: recipe.source, codeRevision: communicator.isRoot ? CodeRevision.current() : "", seed: seed,
            environment: environment)
        let recorder =
            if let resuming, communicator.isRoot {
                try store.reopenRun(
                    resuming.runID, after: resuming.checkpoint?.step ?? 0, force: request.forceResume, environment: environment)
            } else {
                try store.beginRun(descriptor)
            }
        // Rank 0 holds the run's lock while it records, so a resume can tell whether this process is gone.
        var ownerLock: RunOwnerLock?
        if communicator.isRoot, request.databasePath != ":memory:" {
            do {
                ownerLock = try RunOwnerLock.acquire(store: store, run: recorder.runID, ranks: communicator.size)
            } catch {
                try? recorder.fail(error.localizedDescription)
                throw error
            }
        }
        defer { withExtendedLifetime(ownerLock) {} }
        let runID = Int64(bitPattern: try communicator.broadcast(UInt64(bitPattern: recorder.runID), root: 0))
        if communicator.isRoot { request.onRunStarted?(runID) }
        let progress = ProgressReporter(style: communicator.isRoot ? request.progress : .silent)
        let context = RunContext(
            runID: runID, seed: seed, recorder: recorder, progress: progress,
            recipePath: recipe.source, databasePath: request.databasePath, communicator: communicator,
            resumeFrom: resuming?.checkpoint, injectedFault: request.injectedFault)
        if let resuming {
            progress.log(
                "resuming run \(runID) "
                    + (resuming.checkpoint.map { "from its checkpoint at step \($0.step)" } ?? "from the start (no checkpoint)"))
        }
        do {
            let summary = try recorder.record { _ in
                let summary = try A.run(config, context: context)
                progress.finish()
                return summary
            }
            try recorder.complete(metrics: summary.metrics, notes: summary.notes)
            return RunOutcome(runID: runID, application: A.name, summary: summary, databasePath: request.databasePath)
        } catch {
            progress.finish()
            // `record` already marked the run failed if the application threw; this covers `complete` failing.
            if recorder.status == .running { try? recorder.fail(error.localizedDescription) }
            throw ApplicationFailure(
                runID: runID, application: A.name, databasePath: request.databasePath, underlying: error,
                rank: communicator.rank)
        }
    }
}

/// The code revision recorded with each run: `$WINNOW_CODE_REVISION`, else `git describe`, else "unknown".
public enum CodeRevision {
    public static func current(directory: String = FileManager.default.currentDirectoryPath) -> String {
        if let fixed = ProcessInfo.processInfo.environment["WINNOW_CODE_REVISION"], !fixed.isEmpty { return fixed }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory, "describe", "--always", "--dirty", "--tags"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty ? text : "unknown"
    }
}
