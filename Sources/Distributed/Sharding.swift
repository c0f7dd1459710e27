import Foundation

/// A global batch that does not split into equal shards (the engine's mean over ranks needs equal shards).
public struct ShardingError: Error, LocalizedError, Equatable {
    public var batchSize: Int
    public var ranks: Int
    public init(batchSize: Int, ranks: Int) { self.batchSize = batchSize; self.ranks = ranks }
    public var errorDescription: String? {
        "the global batch size \(batchSize) is not a multiple of the \(ranks) ranks: choose a batch size divisible by the number of ranks"
    }
}

/// Which part of a global batch or of an evaluation set a rank processes.
public enum Sharding {
    /// Throws `ShardingError` unless `batchSize` splits into `ranks` equal shards.
    public static func checkEqualShards(batchSize: Int, ranks: Int) throws {
        guard batchSize % ranks == 0 else { throw ShardingError(batchSize: batchSize, ranks: ranks) }
    }

    /// The positions of a global batch of `count` this rank takes: rank, rank + size, … (strided, so the
    /// shards differ in size by at most one and together are the whole batch).
    public static func strided<T>(_ items: [T], rank: Int, size: Int) -> [T] {
        precondition(rank >= 0 && rank < size, "rank \(rank) outside 0..<\(size)")
        return stride(from: rank, to: items.count, by: size).map { items[$0] }
    }

    /// A contiguous block of 0..<count for this rank (evaluation sets: each rank scores one block).
    public static func block(count: Int, rank: Int, size: Int) -> Range<Int> {
        precondition(rank >= 0 && rank < size, "rank \(rank) outside 0..<\(size)")
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

extension Communicator {
    /// Sums `values` (e.g. correct predictions and sample counts of a sharded evaluation) over ranks.
    /// Each Double travels as a Float plus its Float remainder: integer counts below 2²⁴ sum exactly, other
    /// values to about 1e-13 relative.
    public func sum(_ values: [Double]) throws -> [Double] {
        guard isDistributed else { return values }
        var parts: [Float] = []
        for v in values { let hi = Float(v); parts += [hi, Float(v - Double(hi))] }
        // The hi and lo parts are summed separately over ranks.
        try allReduce(&parts, .sum)
        return stride(from: 0, to: parts.count, by: 2).map { Double(parts[$0]) + Double(parts[$0 + 1]) }
    }
}
