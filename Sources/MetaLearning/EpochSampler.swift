import Foundation
import Tensors

/// Mini-batches drawn without replacement from a permutation reshuffled every epoch from a seed.
///
/// The state (epoch and position) is two integers, so a resumed run draws exactly the same batches.
/// With several ranks, every rank computes the same permutation and takes a strided shard of each
/// global batch (`rank`, `worldSize`), so the global batch is the same whatever the rank count.
public struct EpochSampler: Sendable, Codable, Equatable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64
    public private(set) var epoch = 0
    public private(set) var position = 0
    private var order: [Int] = []

    public init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(count > 0 && batchSize > 0, "EpochSampler needs count > 0 and batchSize > 0, got \(count), \(batchSize)")
        self.count = count
        self.batchSize = min(batchSize, count)
        self.seed = seed
        order = Self.permutation(count: count, seed: seed, epoch: 0)
    }

    private static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = RandomGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        return rng.permutation(count)
    }

    /// The next global batch (the last partial batch of an epoch is dropped), this rank's strided shard.
    public mutating func next(rank: Int = 0, worldSize: Int = 1) -> [Int] {
        if position + batchSize > count {
            epoch += 1
            position = 0
            order = Self.permutation(count: count, seed: seed, epoch: epoch)
        }
        let batch = order[position..<(position + batchSize)]
        position += batchSize
        return batch.enumerated().filter { $0.offset % worldSize == rank }.map(\.element)
    }

    /// Moves to a saved position.
    public mutating func restore(epoch: Int, position: Int) {
        self.epoch = epoch
        self.position = position
        order = Self.permutation(count: count, seed: seed, epoch: epoch)
    }
}

extension EpochSampler {
    /// The data state of a program drawing from a train and a meta sampler (`ResumableProgram.dataState`).
    public static func encodeState(train: EpochSampler, meta: EpochSampler) throws -> Data {
        try JSONEncoder().encode([train, meta])
    }

    /// Reads `encodeState`'s output back.
    public static func decodeState(_ data: Data) throws -> (train: EpochSampler, meta: EpochSampler) {
        let samplers = try JSONDecoder().decode([EpochSampler].self, from: data)
        guard samplers.count == 2 else { throw ProgramCheckpointError.mismatch("data state", "expected two samplers") }
        return (samplers[0], samplers[1])
    }
}
