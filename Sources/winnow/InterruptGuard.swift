import Dispatch
import Foundation
import ResultStore

/// While a run is recording, Ctrl-C (SIGINT) or SIGTERM marks it failed in the store before exiting, so an
/// interrupted run never looks like it is still going. Best effort: it waits up to 2 s for the write lock.
final class InterruptGuard: @unchecked Sendable {
    private let databasePath: String
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []

    init(databasePath: String) {
        self.databasePath = databasePath
    }

    func arm(runID: Int64) {
        lock.lock()
        defer { lock.unlock() }
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            let path = databasePath
            source.setEventHandler {
                // Under mpirun, SIGTERM usually means another rank failed and mpirun is ending the job.
                let name = signalNumber == SIGINT ? "SIGINT"
                    : World.communicator.isDistributed ? "SIGTERM (mpirun ends every rank when one fails: the failing rank's error is on stderr)" : "SIGTERM"
                let marked = (try? ResultStore(path: path, mode: .existing, busyTimeoutMilliseconds: 2_000)
                    .markFailed(run: runID, message: "interrupted by \(name)")) ?? false
                printError("error: interrupted by \(name); run \(runID) " + (marked ? "marked failed in \(path)" : "could not be marked failed"))
                // _exit: the main thread may be inside BLAS; running atexit handlers under it can crash.
                fflush(nil)
                _exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }

    func disarm() {
        lock.lock()
        defer { lock.unlock() }
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
