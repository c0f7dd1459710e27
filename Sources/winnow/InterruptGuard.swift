import Dispatch
import Foundation
import ResultStore

/// While a run is recording, Ctrl-C (SIGINT) or SIGTERM marks it failed in the store before exiting, so an
/// interrupted run never looks like it is still going. Best effort: it waits up to 2 s for the write lock.
final class InterruptGuard: @unchecked Sendable {
    private let databasePath: String
    private let handlers = SignalHandlers()

    init(databasePath: String) {
        self.databasePath = databasePath
    }

    func arm(runID: Int64) {
        let path = databasePath
        handlers.arm { signalNumber in
            // Under mpirun, SIGTERM usually means another rank failed and mpirun is ending the job.
            let name =
                signalNumber == SIGINT
                ? "SIGINT"
                : World.communicator.isDistributed
                    ? "SIGTERM (mpirun ends every rank when one fails: the failing rank's error is on stderr)" : "SIGTERM"
            let marked =
                (try? ResultStore(path: path, mode: .existing, busyTimeoutMilliseconds: 2_000)
                    .markFailed(run: runID, message: "interrupted by \(name)")) ?? false
            printError(
                "error: interrupted by \(name); run \(runID) " + (marked ? "marked failed in \(path)" : "could not be marked failed"))
            SignalHandlers.exit(after: signalNumber)
        }
    }

    func disarm() { handlers.disarm() }
}
