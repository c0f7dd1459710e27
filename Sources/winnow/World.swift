import Distributed
import DistributedMPI
import Foundation

/// The ranks this process belongs to: Open MPI's world when started by `mpirun` (MPI_Init at start-up,
/// MPI_Finalize at a normal exit, MPI_Abort after an error so no rank waits forever), else one process.
enum World {
    nonisolated(unsafe) private(set) static var communicator: any Communicator = SingleProcessCommunicator()

    /// Joins MPI's world when launched by `mpirun` (detected from Open MPI's environment).
    static func start() {
        if MPICommunicator.launchedByMPI { communicator = MPICommunicator.initialize() }
    }

    /// Ends the process: finalises MPI after success; after a failure with several ranks, aborts the job.
    static func exit(_ code: Int32) -> Never {
        if code == 0 {
            MPICommunicator.finalize()
        } else if communicator.isDistributed {
            communicator.abort(reason: "exit status \(code)", code: code)
        }
        Foundation.exit(code)
    }

    /// "rank N: " when several ranks run, so every error line names its rank.
    static var errorPrefix: String { communicator.isDistributed ? "rank \(communicator.rank): " : "" }
}
