import CMPI
import Distributed
import Foundation

/// The world communicator of Open MPI. Create it once per process with `MPICommunicator.initialize()`
/// (calls `MPI_Init`), and call `finalize()` before the process exits normally.
///
/// MPI errors are fatal (Open MPI's default handler ends the job), so the collectives only throw for
/// errors an MPI implementation chooses to return.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    nonisolated(unsafe) private static var shared: MPICommunicator?

    /// Whether this process was started by `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`).
    public static var launchedByMPI: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
            || ProcessInfo.processInfo.environment["PMI_SIZE"] != nil
    }

    /// Initialises MPI (once per process) and returns the world communicator.
    public static func initialize() -> MPICommunicator {
        if let shared { return shared }
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, winnow_mpi_thread_funneled(), &provided)
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(winnow_mpi_comm_world(), &rank)
        MPI_Comm_size(winnow_mpi_comm_world(), &size)
        let communicator = MPICommunicator(rank: Int(rank), size: Int(size))
        shared = communicator
        return communicator
    }

    /// Finalises MPI if it was initialised (call once, at normal exit).
    public static func finalize() {
        guard shared != nil else { return }
        MPI_Finalize()
        shared = nil
    }

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    private func check(_ code: Int32, _ call: String) throws {
        if code != winnow_mpi_success() { throw CommunicatorError.mpi(call: call, rank: rank, code: code) }
    }

    private static func op(_ operation: ReduceOperation) -> MPI_Op {
        operation == .max ? winnow_mpi_max() : winnow_mpi_sum()
    }

    public func allReduce(_ values: inout [Float], _ operation: ReduceOperation) throws {
        guard size > 1, !values.isEmpty else { return }
        let count = Int32(values.count)
        let code = values.withUnsafeMutableBufferPointer { buffer in
            MPI_Allreduce(winnow_mpi_in_place(), buffer.baseAddress, count, winnow_mpi_float(), Self.op(operation), winnow_mpi_comm_world())
        }
        try check(code, "MPI_Allreduce")
        if operation == .mean { let n = Float(size); for i in values.indices { values[i] /= n } }
    }

    public func startAllReduce(_ buffer: ReductionBuffer, _ operation: ReduceOperation) -> any PendingReduction {
        let request = MPIReduction(buffer: buffer, divisor: operation == .mean ? Float(size) : 1, rank: rank)
        guard size > 1, buffer.count > 0 else { request.completed = true; return request }
        request.code = MPI_Iallreduce(
            winnow_mpi_in_place(), buffer.pointer, Int32(buffer.count), winnow_mpi_float(),
            Self.op(operation), winnow_mpi_comm_world(), &request.request)
        return request
    }

    public func broadcast(_ values: inout [Float], root: Int) throws {
        guard size > 1, !values.isEmpty else { return }
        let count = Int32(values.count)
        let code = values.withUnsafeMutableBufferPointer { buffer in
            MPI_Bcast(buffer.baseAddress, count, winnow_mpi_float(), Int32(root), winnow_mpi_comm_world())
        }
        try check(code, "MPI_Bcast")
    }

    public func gather(_ bytes: [UInt8], root: Int) throws -> [[UInt8]]? {
        guard size > 1 else { return [bytes] }
        var myCount = Int32(bytes.count)
        var counts = [Int32](repeating: 0, count: size)
        try check(
            MPI_Gather(&myCount, 1, winnow_mpi_int(), &counts, 1, winnow_mpi_int(), Int32(root), winnow_mpi_comm_world()), "MPI_Gather")
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<size { displacements[r] = displacements[r - 1] + counts[r - 1] }
        var received = [UInt8](repeating: 0, count: rank == root ? Int(counts.reduce(0, +)) : 1)
        var send = bytes.isEmpty ? [UInt8(0)] : bytes
        let code = send.withUnsafeMutableBufferPointer { s in
            received.withUnsafeMutableBufferPointer { r in
                MPI_Gatherv(
                    s.baseAddress, myCount, winnow_mpi_byte(), r.baseAddress, &counts, &displacements,
                    winnow_mpi_byte(), Int32(root), winnow_mpi_comm_world())
            }
        }
        try check(code, "MPI_Gatherv")
        guard rank == root else { return nil }
        return (0..<size).map { r in Array(received[Int(displacements[r])..<Int(displacements[r] + counts[r])]) }
    }

    public func barrier() throws {
        guard size > 1 else { return }
        try check(MPI_Barrier(winnow_mpi_comm_world()), "MPI_Barrier")
    }

    /// `MPI_Abort` on the world communicator: mpirun ends every rank. Does not return.
    public func abort(reason: String, code: Int32) {
        MPI_Abort(winnow_mpi_comm_world(), code)
        exit(code)
    }
}

/// An `MPI_Iallreduce` in flight; keeps its buffer alive until waited on.
final class MPIReduction: PendingReduction {
    let buffer: ReductionBuffer
    let divisor: Float
    let rank: Int
    var request: MPI_Request? = winnow_mpi_request_null()
    var code: Int32 = 0
    var completed = false
    private var finalised = false

    init(buffer: ReductionBuffer, divisor: Float, rank: Int) {
        self.buffer = buffer
        self.divisor = divisor
        self.rank = rank
    }

    func test() -> Bool {
        if completed { return true }
        var flag: Int32 = 0
        MPI_Test(&request, &flag, winnow_mpi_status_ignore())
        if flag != 0 { completed = true }
        return completed
    }

    func wait() throws {
        precondition(!finalised, "a reduction was waited on twice")
        finalised = true
        if code != winnow_mpi_success() { throw CommunicatorError.mpi(call: "MPI_Iallreduce", rank: rank, code: code) }
        if !completed {
            let waitCode = MPI_Wait(&request, winnow_mpi_status_ignore())
            if waitCode != winnow_mpi_success() { throw CommunicatorError.mpi(call: "MPI_Wait", rank: rank, code: waitCode) }
            completed = true
        }
        if divisor != 1 {
            let p = buffer.pointer, n = divisor
            for i in 0..<buffer.count { p[i] /= n }
        }
    }
}
