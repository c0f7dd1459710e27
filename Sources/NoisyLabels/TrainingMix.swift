import Foundation
import MetaLearning
import Recipes

/// How much each clean sample counts when the clean meta split also joins the training set
/// (`dataset.meta_split_weight`): a fixed multiplier of its loss, or `balanced`, which gives the clean samples
/// together the same total weight as the weak ones (N_weak / N_clean each): a rule fixed before any run, so
/// the weight is never chosen by looking at the test split.
public enum MetaSplitWeight: Codable, Sendable, Equatable {
    case balanced
    case fixed(Float)

    /// The multiplier for one clean sample when `weakCount` weak and `cleanCount` clean samples train together.
    public func multiplier(weakCount: Int, cleanCount: Int) -> Float {
        switch self {
        case .balanced: cleanCount > 0 ? Float(weakCount) / Float(cleanCount) : 1
        case let .fixed(value): value
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text.lowercased() == "balanced" {
            self = .balanced
        } else if let value = Float(text), value.isFinite, value > 0, value <= 1e6 {
            self = .fixed(value)
        } else {
            throw InvalidSetting("dataset.meta_split_weight", "must be 'balanced' or a number in (0, 1e6], got '\(text)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .balanced: try container.encode("balanced")
        case let .fixed(value): try container.encode(value)
        }
    }
}

/// Where the base batches come from: the training rows `0..<phaseOneCount` (the weak samples, plus the clean
/// ones when they train alongside) for the first `phaseOneSteps` draws, then only the rows `cleanRows`
/// (fine-tune on weak, then on clean: `training.clean_epochs`). Without a second phase it is the usual
/// `BatchStreams`. Its state is two samplers and the draw count, so a resumed run draws the same batches.
public struct PhasedBatchStreams: Sendable, Equatable {
    public var streams: BatchStreams
    /// The second phase's sampler over `cleanRows` (nil: one phase).
    public private(set) var clean: EpochSampler?
    public let cleanRows: Range<Int>
    public let phaseOneSteps: Int
    public private(set) var drawn = 0

    /// - Parameters:
    ///   - phaseOneCount: rows drawn from in the first phase (the first rows of the training data).
    ///   - cleanRows: the rows of the second phase; empty for one phase.
    ///   - phaseOneSteps: base draws before the second phase starts.
    public init(
        phaseOneCount: Int, cleanRows: Range<Int>, phaseOneSteps: Int, batchSize: Int, metaCount: Int,
        metaBatchSize: Int, seed: UInt64, rank: Int, worldSize: Int
    ) {
        streams = BatchStreams(
            trainCount: phaseOneCount, batchSize: batchSize, metaCount: metaCount, metaBatchSize: metaBatchSize,
            seed: seed, rank: rank, worldSize: worldSize)
        clean = cleanRows.isEmpty ? nil : EpochSampler(count: cleanRows.count, batchSize: batchSize, seed: seed &+ 2)
        self.cleanRows = cleanRows
        self.phaseOneSteps = phaseOneSteps
    }

    /// This rank's shard of the next global base batch.
    public mutating func nextBase() -> [Int] {
        defer { drawn += 1 }
        guard drawn >= phaseOneSteps, var sampler = clean else { return streams.nextBase() }
        let rows = sampler.next(rank: streams.rank, worldSize: streams.worldSize).map { cleanRows.lowerBound + $0 }
        clean = sampler
        return rows
    }

    public mutating func nextMeta() -> [Int] { streams.nextMeta() }

    private struct State: Codable {
        var train: EpochSampler, meta: EpochSampler, clean: EpochSampler?, drawn: Int
    }

    /// The position of every stream (`ResumableProgram.dataState`).
    public func state() throws -> Data {
        try JSONEncoder().encode(State(train: streams.train, meta: streams.meta, clean: clean, drawn: drawn))
    }

    /// Moves every stream to a position written by `state()` (or by `BatchStreams.state()`, one phase).
    public mutating func restore(_ data: Data) throws {
        if let state = try? JSONDecoder().decode(State.self, from: data) {
            streams.train = state.train
            streams.meta = state.meta
            clean = state.clean
            drawn = state.drawn
        } else {
            try streams.restore(data)
        }
    }
}
