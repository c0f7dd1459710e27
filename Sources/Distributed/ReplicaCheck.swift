import Foundation

import Tensors

/// A rank's parameters or optimizer state differ from rank 0's: the replicas diverged.
public struct ReplicaDivergence: Error, LocalizedError, Equatable {
    /// The base step at which the check ran.
    public var step: Int
    /// The ranks whose checksum differs from rank 0's.
    public var ranks: [Int]
    /// What was compared (e.g. "θ, λ and optimizer state").
    public var what: String

    public init(step: Int, ranks: [Int], what: String) {
        self.step = step; self.ranks = ranks; self.what = what
    }

    public var errorDescription: String? {
        "replicas diverged at base step \(step): the checksum of \(what) on rank\(ranks.count == 1 ? "" : "s") "
            + ranks.map(String.init).joined(separator: ", ") + " differs from rank 0's"
    }
}

/// Checksums of parameter replicas, compared across ranks (data parallelism keeps them bit-identical).
public enum ReplicaCheck {
    /// FNV-1a over the bit patterns of every element, in order (shapes included).
    public static func checksum(_ tensors: [Tensor]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        @inline(__always) func mix(_ word: UInt32) {
            hash = (hash ^ UInt64(word)) &* 0x0000_0100_0000_01B3
        }
        for tensor in tensors {
            for d in tensor.shape { mix(UInt32(truncatingIfNeeded: d)) }
            tensor.withUnsafeBufferPointer { values in for v in values { mix(v.bitPattern) } }
        }
        return hash
    }

    /// Compares `checksum` with rank 0's on every rank; throws `ReplicaDivergence` on every rank if any differs.
    public static func verify(_ checksum: UInt64, step: Int, what: String, communicator: any Communicator) throws {
        guard communicator.isDistributed else { return }
        let root = try communicator.broadcast(checksum, root: 0)
        var mismatches = [Float](repeating: 0, count: communicator.size)
        if root != checksum { mismatches[communicator.rank] = 1 }
        try communicator.allReduce(&mismatches, .sum)
        let ranks = mismatches.indices.filter { mismatches[$0] > 0 }
        if !ranks.isEmpty { throw ReplicaDivergence(step: step, ranks: ranks, what: what) }
    }
}
