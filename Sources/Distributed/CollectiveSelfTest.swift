import Foundation
import Tensors

/// A wrong result of a collective, found by `CollectiveSelfTest`.
public struct CollectiveSelfTestFailure: Error, LocalizedError, Equatable {
    public var rank: Int
    public var check: String
    public var errorDescription: String? { "collective self-test failed on rank \(rank): \(check)" }
}

/// Checks every collective of a communicator against values each rank can compute alone. Runs on ranks on
/// threads under `swift test` and on the real MPI communicator under `mpirun` (`winnow bench ddp --check`).
public enum CollectiveSelfTest {
    /// Runs every check on this rank (all ranks must call it); throws `CollectiveSelfTestFailure` on a wrong result.
    public static func run(_ c: any Communicator) throws {
        let n = c.size, r = c.rank
        func expect(_ ok: Bool, _ check: String) throws { if !ok { throw CollectiveSelfTestFailure(rank: r, check: check) } }
        let ranks = (0..<n).map(Float.init)

        var sum: [Float] = [Float(r), 1, -Float(r)]
        try c.allReduce(&sum, .sum)
        try expect(sum == [ranks.reduce(0, +), Float(n), -ranks.reduce(0, +)], "allReduce sum gave \(sum)")
        var maximum: [Float] = [Float(r)]
        try c.allReduce(&maximum, .max)
        try expect(maximum == [Float(n - 1)], "allReduce max gave \(maximum)")

        // Several nonblocking reductions in flight at once, waited on in reverse order.
        let buffers = (0..<3).map { k in ReductionBuffer([Float](repeating: Float(r + k), count: 1000 * (k + 1))) }
        let requests = buffers.map { c.startAllReduce($0, .mean) }
        for request in requests.reversed() { try request.wait() }
        for (k, buffer) in buffers.enumerated() {
            let expected = ranks.reduce(0, +) / Float(n) + Float(k)
            try expect(buffer.values.allSatisfy { abs($0 - expected) < 1e-5 }, "startAllReduce mean of buffer \(k)")
        }

        var root: [Float] = [Float(r), Float(r)]
        try c.broadcast(&root, root: n - 1)
        try expect(root == [Float(n - 1), Float(n - 1)], "broadcast from rank \(n - 1) gave \(root)")
        try expect(try c.broadcast(UInt64(0xDEAD_BEEF_0000) + UInt64(r), root: 0) == 0xDEAD_BEEF_0000, "broadcast of UInt64")

        // Per-sample values from disjoint strided shards (rank r holds r, r + n, ...; rank 0 may hold none).
        let indices = Array(stride(from: r, to: 10, by: n))
        let gathered = try c.gatherSamples(indices: indices, values: indices.map { Float($0) * 0.5 })
        if r == 0 {
            try expect(
                gathered?.map(\.index) == Array(0..<10) && gathered?.map(\.value) == (0..<10).map { Float($0) * 0.5 },
                "gatherSamples on rank 0")
        } else {
            try expect(gathered == nil, "gatherSamples off rank 0 must be nil")
        }
        let counts = try c.sum([Double(r + 1), 0.25])
        try expect(counts == [Double(n * (n + 1) / 2), 0.25 * Double(n)], "sum of Doubles gave \(counts)")
        try ReplicaCheck.verify(ReplicaCheck.checksum([Tensor([1, 2, 3])]), step: 0, what: "self-test tensor", communicator: c)
        try c.barrier()
    }
}
