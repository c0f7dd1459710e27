import Foundation

/// Ranks on threads of one process, so data-parallel logic runs under plain `swift test`.
///
///     let results = try InProcessGroup.run(size: 2) { communicator in
///         try trainShard(communicator)      // each rank on its own thread
///     }
///
/// Collectives match by call order: the k-th collective of every rank meets in slot k. Reductions add the
/// ranks' values in rank order, so every rank gets bit-identical results.
public final class InProcessGroup: @unchecked Sendable {
    public let size: Int
    private let condition = NSCondition()
    private var slots: [Int: Slot] = [:]
    private var abortion: (rank: Int, reason: String)?

    private final class Slot {
        var contributions: [Int: [UInt8]] = [:]
        var floats: [Int: [Float]] = [:]
        var result: [Float]?
        var complete = false
        var taken = 0
    }

    /// What a slot computes once every rank has contributed.
    enum Kind { case reduce(ReduceOperation), broadcast(root: Int), gather, barrier }

    /// A group of `size` ranks; hand `communicators()` to threads, or use `run(size:_:)`.
    public init(size: Int) {
        precondition(size >= 1, "InProcessGroup needs at least one rank, got \(size)")
        self.size = size
    }

    /// One communicator per rank.
    public func communicators() -> [InProcessCommunicator] { (0..<size).map { InProcessCommunicator(group: self, rank: $0) } }

    /// Runs `body` on `size` threads, one rank each, and returns the results in rank order. When a rank throws,
    /// the group is aborted (the others' pending collectives throw `CommunicatorError.aborted`) and the first
    /// error in rank order of the ranks that threw themselves (not of those that were aborted) is rethrown.
    public static func run<T: Sendable>(size: Int, _ body: @escaping @Sendable (InProcessCommunicator) throws -> T) throws -> [T] {
        let group = InProcessGroup(size: size)
        let results = RankResults<T>(size: size)
        let done = DispatchGroup()
        for communicator in group.communicators() {
            done.enter()
            let thread = Thread {
                let result = Result { try body(communicator) }
                if case let .failure(error) = result, !(error is CommunicatorError) {
                    communicator.abort(reason: "\(error)", code: 1)
                }
                results.lock.lock(); results.values[communicator.rank] = result; results.lock.unlock()
                done.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        let finished = results.values.map { $0! }
        let failures = finished.compactMap { result -> (any Error)? in
            if case let .failure(error) = result { return error } else { return nil }
        }
        if let own = failures.first(where: { !($0 is CommunicatorError) }) ?? failures.first { throw own }
        return try finished.map { try $0.get() }
    }

    // MARK: Slots

    func contribute(sequence: Int, rank: Int, floats: [Float] = [], bytes: [UInt8] = [], kind: Kind) {
        condition.lock()
        defer { condition.unlock() }
        let slot = slots[sequence] ?? Slot()
        slots[sequence] = slot
        slot.floats[rank] = floats
        slot.contributions[rank] = bytes
        guard slot.floats.count == size else { return }
        switch kind {
        case let .reduce(operation):
            var total = slot.floats[0]!
            for r in 1..<size {
                let other = slot.floats[r]!
                precondition(
                    other.count == total.count, "all-reduce \(sequence): rank \(r) sent \(other.count) values, rank 0 sent \(total.count)")
                for i in total.indices {
                    switch operation {
                    case .sum, .mean: total[i] += other[i]
                    case .max: total[i] = Swift.max(total[i], other[i])
                    }
                }
            }
            if operation == .mean { let n = Float(size); for i in total.indices { total[i] /= n } }
            slot.result = total
        case let .broadcast(root):
            slot.result = slot.floats[root]!
        case .gather, .barrier:
            slot.result = []
        }
        slot.complete = true
        condition.broadcast()
    }

    /// Waits for slot `sequence` and returns its result (and every rank's bytes, for gathers).
    func await(sequence: Int) throws -> (result: [Float], bytes: [[UInt8]]) {
        condition.lock()
        defer { condition.unlock() }
        while !(slots[sequence]?.complete ?? false) {
            if let abortion { throw CommunicatorError.aborted(rank: abortion.rank, reason: abortion.reason) }
            condition.wait()
        }
        let slot = slots[sequence]!
        let bytes = (0..<size).map { slot.contributions[$0]! }
        slot.taken += 1
        if slot.taken == size { slots[sequence] = nil }
        return (slot.result!, bytes)
    }

    func isComplete(sequence: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return slots[sequence]?.complete ?? true
    }

    func abort(rank: Int, reason: String) {
        condition.lock()
        if abortion == nil { abortion = (rank, reason) }
        condition.broadcast()
        condition.unlock()
    }
}

/// Results of the rank threads, filled under a lock.
private final class RankResults<T>: @unchecked Sendable {
    let lock = NSLock()
    var values: [Result<T, any Error>?]
    init(size: Int) { values = .init(repeating: nil, count: size) }
}

/// One rank of an `InProcessGroup`. Used from its rank's thread only.
public final class InProcessCommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public var size: Int { group.size }
    let group: InProcessGroup
    private var sequence = 0
    /// Number of nonblocking all-reduces started (tests check overlap with it).
    public private(set) var startedReductions = 0

    init(group: InProcessGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    private func nextSequence() -> Int {
        defer { sequence += 1 }
        return sequence
    }

    public func allReduce(_ values: inout [Float], _ operation: ReduceOperation) throws {
        let s = nextSequence()
        group.contribute(sequence: s, rank: rank, floats: values, kind: .reduce(operation))
        values = try group.await(sequence: s).result
    }

    public func startAllReduce(_ buffer: ReductionBuffer, _ operation: ReduceOperation) -> any PendingReduction {
        let s = nextSequence()
        startedReductions += 1
        group.contribute(sequence: s, rank: rank, floats: buffer.values, kind: .reduce(operation))
        return InProcessReduction(group: group, sequence: s, buffer: buffer)
    }

    public func broadcast(_ values: inout [Float], root: Int) throws {
        let s = nextSequence()
        group.contribute(sequence: s, rank: rank, floats: values, kind: .broadcast(root: root))
        values = try group.await(sequence: s).result
    }

    public func gather(_ bytes: [UInt8], root: Int) throws -> [[UInt8]]? {
        let s = nextSequence()
        group.contribute(sequence: s, rank: rank, bytes: bytes, kind: .gather)
        let all = try group.await(sequence: s).bytes
        return rank == root ? all : nil
    }

    public func barrier() throws {
        let s = nextSequence()
        group.contribute(sequence: s, rank: rank, kind: .barrier)
        _ = try group.await(sequence: s)
    }

    /// Wakes every rank's pending collective with `CommunicatorError.aborted` (the process keeps running).
    public func abort(reason: String, code: Int32) { group.abort(rank: rank, reason: reason) }
}

final class InProcessReduction: PendingReduction {
    let group: InProcessGroup
    let sequence: Int
    let buffer: ReductionBuffer
    private var finished = false

    init(group: InProcessGroup, sequence: Int, buffer: ReductionBuffer) {
        self.group = group; self.sequence = sequence; self.buffer = buffer
    }

    func wait() throws {
        precondition(!finished, "a reduction was waited on twice")
        finished = true
        let result = try group.await(sequence: sequence).result
        result.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { buffer.pointer.update(from: base, count: buffer.count) }
        }
    }

    func test() -> Bool { finished || group.isComplete(sequence: sequence) }
}
