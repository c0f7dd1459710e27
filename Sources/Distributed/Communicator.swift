import Foundation

/// How an all-reduce combines the ranks' buffers.
public enum ReduceOperation: Sendable, Equatable {
    /// Element-wise sum over ranks.
    case sum
    /// Element-wise sum over ranks divided by the number of ranks.
    case mean
    /// Element-wise maximum over ranks.
    case max
}

/// Memory that stays valid while a nonblocking all-reduce runs on it (MPI may read and write it until
/// the request is waited on). Owned by the caller; the request keeps it alive.
public final class ReductionBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Zero-filled memory for `count` Floats.
    public init(count: Int) {
        precondition(count >= 0, "ReductionBuffer count must be ≥ 0, got \(count)")
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    /// A copy of the contents.
    public var values: [Float] { Array(buffer) }
}

/// A nonblocking all-reduce in flight. `wait()` must be called exactly once before the buffer is read.
public protocol PendingReduction: AnyObject {
    /// Blocks until the reduced values are in the buffer; throws when the group was aborted.
    func wait() throws
    /// Lets the implementation make progress without blocking; true once complete.
    func test() -> Bool
}

/// Errors of a communicator; each names the rank it concerns.
public enum CommunicatorError: Error, Equatable, LocalizedError {
    /// Another rank aborted the group (in-process ranks only; MPI ends the processes instead).
    case aborted(rank: Int, reason: String)
    /// An MPI call failed.
    case mpi(call: String, rank: Int, code: Int32)

    public var errorDescription: String? {
        switch self {
        case let .aborted(rank, reason): "rank \(rank) aborted the job: \(reason)"
        case let .mpi(call, rank, code): "\(call) failed on rank \(rank) with MPI error \(code)"
        }
    }
}

/// The collective operations data-parallel training needs (docs/ALGORITHMS.md §9).
///
/// Every rank must call the collectives in the same order with matching sizes. Implementations: one
/// process (`SingleProcessCommunicator`, the default, where every call is a no-op or a copy), ranks on threads
/// (`InProcessGroup`, for tests), and Open MPI (`MPICommunicator` in the DistributedMPI target).
public protocol Communicator: AnyObject, Sendable {
    /// This process's rank, 0 ..< size.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// Reduces `values` over all ranks in place (blocking).
    func allReduce(_ values: inout [Float], _ operation: ReduceOperation) throws
    /// Starts reducing `buffer` in place; the buffer must not be touched until the request is waited on.
    func startAllReduce(_ buffer: ReductionBuffer, _ operation: ReduceOperation) -> any PendingReduction
    /// Replaces `values` on every rank with the root's (all ranks must pass the same count).
    func broadcast(_ values: inout [Float], root: Int) throws
    /// Gathers each rank's bytes (any length) to `root`, in rank order; nil on the other ranks.
    func gather(_ bytes: [UInt8], root: Int) throws -> [[UInt8]]?
    /// Waits until every rank has arrived.
    func barrier() throws
    /// Ends the whole job (all ranks) after a failure on this rank; `reason` is printed by the caller.
    func abort(reason: String, code: Int32)
}

extension Communicator {
    /// Whether this rank writes results and draws progress (rank 0).
    public var isRoot: Bool { rank == 0 }
    /// Whether more than one rank takes part.
    public var isDistributed: Bool { size > 1 }

    /// Reduces one Double (sent as two Floats would lose precision, so it is split into hi + lo parts).
    public func allReduce(_ value: Double, _ operation: ReduceOperation) throws -> Double {
        let hi = Float(value)
        var pair = [hi, Float(value - Double(hi))]
        try allReduce(&pair, operation)
        return Double(pair[0]) + Double(pair[1])
    }

    /// Gathers `values` (any length per rank) to `root`, in rank order; nil on the other ranks.
    public func gather(_ values: [Float], root: Int = 0) throws -> [[Float]]? {
        let bytes = values.withUnsafeBytes { Array($0) }
        return try gather(bytes, root: root)?.map { chunk in
            chunk.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
    }

    /// Gathers integers (e.g. sample indices) to `root`, in rank order; nil on the other ranks.
    public func gather(_ values: [Int], root: Int = 0) throws -> [[Int]]? {
        let bytes = values.map(Int64.init).withUnsafeBytes { Array($0) }
        return try gather(bytes, root: root)?.map { chunk in
            chunk.withUnsafeBytes { $0.bindMemory(to: Int64.self).map { Int($0) } }
        }
    }

    /// Gathers per-sample values keyed by sample index to `root`: the union over ranks, ordered by index.
    /// Each index must come from one rank only (shards are disjoint). Nil on the other ranks.
    public func gatherSamples(indices: [Int], values: [Float], root: Int = 0) throws -> [(index: Int, value: Float)]? {
        precondition(indices.count == values.count, "gatherSamples: \(indices.count) indices for \(values.count) values")
        let allIndices = try gather(indices, root: root)
        let allValues = try gather(values, root: root)
        guard let allIndices, let allValues else { return nil }
        return zip(allIndices.joined(), allValues.joined()).map { (index: $0, value: $1) }.sorted { $0.index < $1.index }
    }
}

/// One process: collectives return their input. The default everywhere.
public final class SingleProcessCommunicator: Communicator, @unchecked Sendable {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduce(_ values: inout [Float], _ operation: ReduceOperation) throws {}
    public func startAllReduce(_ buffer: ReductionBuffer, _ operation: ReduceOperation) -> any PendingReduction { CompletedReduction() }
    public func broadcast(_ values: inout [Float], root: Int) throws {}
    public func gather(_ bytes: [UInt8], root: Int) throws -> [[UInt8]]? { [bytes] }
    public func barrier() throws {}
    public func abort(reason: String, code: Int32) {}
}

/// A reduction that was complete when it started.
final class CompletedReduction: PendingReduction {
    func wait() throws {}
    func test() -> Bool { true }
}

extension Communicator {
    /// The root's value on every rank (sent as four exact 16-bit chunks).
    public func broadcast(_ value: UInt64, root: Int = 0) throws -> UInt64 {
        guard isDistributed else { return value }
        var chunks = (0..<4).map { Float((value >> (16 * UInt64($0))) & 0xFFFF) }
        try broadcast(&chunks, root: root)
        return chunks.enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (16 * UInt64($1.offset))) }
    }
}
