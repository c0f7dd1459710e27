import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// While a run records, its process holds an exclusive advisory lock (`flock`) on
/// `checkpoints/<database name>-run-<id>.lock` beside the database. The kernel releases the lock when the process
/// ends in any way (`kill -9` included), so `winnow run --resume` can tell a run whose process is gone, which it
/// resumes, from one still going, which it refuses without `--force`.
public final class RunOwnerLock {
    private let descriptor: Int32
    /// The lock file.
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The lock file of run `runID` of `store`.
    public static func path(store: ResultStore, run runID: Int64) -> String { store.checkpointFolder(run: runID) + ".lock" }

    /// Takes the run's lock for this process (held until the returned value is released) and writes into the file
    /// how many ranks record the run; throws when another process holds it or the file cannot be made.
    public static func acquire(store: ResultStore, run runID: Int64, ranks: Int = 1) throws -> RunOwnerLock {
        let path = path(store: store, run: runID)
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError.outputFailed(path: folder, reason: "cannot create the checkpoint folder: \(error.localizedDescription)")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreError.outputFailed(path: path, reason: "cannot open the run's lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw StoreError.invalidArgument("run \(runID) in \(store.path) is being recorded by another process (\(path) is locked)")
        }
        let text = Array("ranks \(ranks)\npid \(getpid())\n".utf8)
        guard ftruncate(descriptor, 0) == 0, write(descriptor, text, text.count) == text.count else {
            close(descriptor)
            throw StoreError.outputFailed(path: path, reason: "cannot write the run's lock file: \(String(cString: strerror(errno)))")
        }
        return RunOwnerLock(descriptor: descriptor, path: path)
    }

    /// How many ranks recorded run `runID` (from its lock file; nil for a run recorded before runs took locks).
    public static func recordedRanks(store: ResultStore, run runID: Int64) -> Int? {
        guard let text = try? String(contentsOfFile: path(store: store, run: runID), encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("ranks ") }.flatMap { Int($0.dropFirst(6)) }
    }

    /// What the lock says of a run's recording process.
    public enum Owner: Sendable, Equatable {
        /// A live process holds the lock.
        case alive
        /// The lock file exists and nobody holds it: the process that recorded the run has ended.
        case gone
        /// No lock file (a run recorded before runs took locks, or in another folder).
        case unknown
    }

    /// Whether the process recording run `runID` is still alive, by its lock.
    public static func owner(store: ResultStore, run runID: Int64) -> Owner {
        let descriptor = open(path(store: store, run: runID), O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return .unknown }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return errno == EWOULDBLOCK ? .alive : .unknown }
        flock(descriptor, LOCK_UN)
        return .gone
    }
}
