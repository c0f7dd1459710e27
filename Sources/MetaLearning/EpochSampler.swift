import Distributed
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

/// The two batch streams of a program that reweights training samples against a meta set: every rank's
/// strided shard of each global base batch, and whole meta batches (the same on every rank). Its state is
/// the program's data position in checkpoints.
public struct BatchStreams: Sendable, Equatable {
    public var train: EpochSampler
    public var meta: EpochSampler
    /// This process's rank and the number of ranks sharing each global base batch.
    public private(set) var rank = 0
    public private(set) var worldSize = 1

    /// Base batches from `trainCount` samples (seeded with `seed`), meta batches from `metaCount` (`seed + 1`).
    public init(trainCount: Int, batchSize: Int, metaCount: Int, metaBatchSize: Int, seed: UInt64, rank: Int = 0, worldSize: Int = 1) {
        train = EpochSampler(count: trainCount, batchSize: batchSize, seed: seed)
        meta = EpochSampler(count: metaCount, batchSize: metaBatchSize, seed: seed &+ 1)
        self.rank = rank
        self.worldSize = worldSize
    }

    /// Trains as rank `rank` of `size`. Throws `ShardingError` unless the global batch splits into equal shards
    /// (then the mean over ranks of the shard gradients is the global batch's gradient).
    public mutating func shard(rank: Int, of size: Int) throws {
        precondition(rank >= 0 && rank < size, "rank \(rank) outside 0..<\(size)")
        try Sharding.checkEqualShards(batchSize: train.batchSize, ranks: size)
        self.rank = rank
        worldSize = size
    }

    /// This rank's shard of the next global base batch.
    public mutating func nextBase() -> [Int] { train.next(rank: rank, worldSize: worldSize) }
    /// The next meta batch, whole.
    public mutating func nextMeta() -> [Int] { meta.next() }

    /// The position of both streams (`ResumableProgram.dataState`).
    public func state() throws -> Data { try EpochSampler.encodeState(train: train, meta: meta) }

    /// Moves both streams to a position written by `state()`.
    public mutating func restore(_ data: Data) throws { (train, meta) = try EpochSampler.decodeState(data) }
}
