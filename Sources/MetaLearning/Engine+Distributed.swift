import Distributed
import Optimizers
import Tensors

// Data parallelism in the engine (docs/ALGORITHMS.md §9), with a communicator of more than one rank:
//
// - Base steps: each rank's `nextBaseBatch()` is its shard of the global batch; the per-rank mean gradient is
//   mean-all-reduced in buckets (`Configuration.bucketCapacityBytes`, sorted dotted-key order, filled in
//   reverse) that start during backward, and awaited before clipping and the optimizer step. Equal shard
//   sizes make the mean over ranks the global batch's mean gradient. Accumulation micro-steps do not
//   communicate: the last micro-step of the window reduces (accumulated + its gradient) / window.
// - Meta steps (SAMA, SAMA-NA, DARTS): `nextMetaBatch()` is the same whole meta batch on every rank, so
//   g_meta, A, v and ε are computed locally and are identical everywhere; g⁺ and g⁻ come from the rank's base
//   shard, and one λ-sized mean all-reduce, fed bucket by bucket from the g⁻ backward, carries
//   direct + (g⁻ − g⁺)/(2ε). λ's update then equals the one-process update on the global batch, and θ − εv
//   (base update along v) is bit-identical on every rank without averaging θ.
// - Neumann and CG: each rank solves with its shard's Hessian; the final hypergradients are mean-all-reduced
//   (one λ-sized all-reduce), so λ stays identical on every rank. Not equal to the one-process estimate on the
//   global batch, because the solve is not linear in the batch.
// - Every `replicaCheckInterval` base steps the ranks compare checksums of θ, λ and both optimizers' state.

extension Engine {
    /// Checksum of θ, λ and both optimizers' state (sorted keys): equal on every rank while replicas agree.
    public func replicaChecksum() -> UInt64 {
        var tensors = program.base.tensors + program.meta.tensors
        for optimizer in [program.base.optimizer, program.meta.optimizer] {
            let state = optimizer.stateDictionary()
            tensors += state.keys.sorted().map { state[$0]! }
        }
        return ReplicaCheck.checksum(tensors)
    }

    /// Compares `replicaChecksum()` across ranks; throws `ReplicaDivergence` naming the ranks and the step.
    public func verifyReplicas() throws {
        try ReplicaCheck.verify(replicaChecksum(), step: baseStep, what: "θ, λ and optimizer state", communicator: communicator)
    }
}
