import Distributed
import Foundation
import MetaLearning
import NeuralNetworks
import NoisyLabels
import Optimizers
import Runtime
import Tensors

/// `winnow bench ddp`: a bilevel problem trained on one rank or data-parallel on several (one process per
/// rank under `mpirun`), measuring throughput and how much of the gradient all-reduce is hidden behind
/// backward. Two problems: the synthetic noisy-label MLP of `bench meta`, and the noisy-label application's
/// transformer on the bundled weakly labeled reviews (`DataParallelBenchmark+Text.swift`).
public enum DataParallelBenchmark {
    /// The problem being timed.
    public enum Model: String, Codable, Sendable, CaseIterable {
        /// `DenseReweightingProgram` on an MLP over synthetic noisy labels.
        case mlp
        /// `NoisyLabelProgram` on a `TransformerTextClassifier` over `Datasets/rt-sentiment-weak.tar.gz`.
        case textTransformer = "text-transformer"
    }

    public struct Configuration: Codable, Sendable {
        /// The method and its parameters, unroll, normalisation and the meta batch size, as a recipe's `meta:`
        /// section holds them (`DataParallelBenchmark.defaultMeta` unless set).
        public var meta: MetaSettings
        public var model: Model = .mlp
        /// Hidden widths of the MLP (`.mlp` only).
        public var hidden: [Int] = [2048, 2048]
        /// The transformer and its data (`.textTransformer` only).
        public var text = TextSettings()
        /// Timed base steps (after `warmupSteps` untimed ones).
        public var steps: Int = 30
        public var warmupSteps: Int = 3
        /// Global batch size (split over the ranks).
        public var batchSize: Int = 256
        public var bucketMegabytes: Double = 4
        /// Test pending all-reduces from the gradient-ready hook (see `Engine.Configuration`).
        public var progressDuringBackward = true
        /// `Engine.Configuration.sparseRowReduction`: embedding tables reduced by the rows a batch touches.
        public var sparseRowReduction = false
        public var seed: UInt64 = 0
        public init(meta: MetaSettings = DataParallelBenchmark.defaultMeta) { self.meta = meta }
    }

    /// The benchmark's meta settings unless told otherwise (`MetaSettings.benchmark`), mean normalisation.
    public static var defaultMeta: MetaSettings { .benchmark(normalization: .mean) }

    public struct Result: Codable, Sendable {
        public var method: String
        /// The problem: `Model.rawValue`.
        public var model: String
        /// A short description of the network (the MLP's hidden widths, or the transformer's shape).
        public var architecture: String
        /// Hidden widths of the MLP (empty for the transformer).
        public var hidden: [Int]
        public var parameters: Int
        public var unroll: Int
        public var ranks: Int
        public var batchSize: Int
        public var metaBatchSize: Int
        public var blasThreads: Int
        public var progressDuringBackward: Bool
        public var samplesPerSecond: Double
        /// Per timed base step: time blocked waiting for θ's gradient all-reduces after backward (not hidden).
        public var waitMillisecondsPerStep: Double
        /// Per timed base step, the part of waited θ spent before the slowest rank had finished its backward
        /// (waiting for that rank's computation, not for data), averaged over ranks. Nil on one rank.
        public var skewWaitMillisecondsPerStep: Double?
        /// Per timed base step, the part of waited θ after the slowest rank had finished its backward: the
        /// communication not hidden by computation, averaged over ranks. Nil on one rank.
        public var dataWaitMillisecondsPerStep: Double?
        /// Rows of the row-sparse (embedding) parameters reduced, as a share of their rows; nil without any.
        public var sparseRowShare: Double?
        /// Per timed base step: time blocked waiting for λ's hypergradient all-reduce (mostly waiting for the
        /// slower rank: λ is small).
        public var metaWaitMillisecondsPerStep: Double
        /// Per timed base step: seconds packing gradients and starting reductions inside backward.
        public var launchMillisecondsPerStep: Double
        /// One bucketed all-reduce of the whole gradient with nothing to overlap it, milliseconds.
        public var allReduceMilliseconds: Double
        /// Bytes each rank sends into reductions per base step (gradients, plus λ on meta steps).
        public var bytesPerStep: Double
        /// Checksum of θ, λ and optimizer state at the end (the same on every rank; verified).
        public var checksum: String
        /// Matrix-product operations (`FLOPCounter`) this rank did per timed base step (meta steps included), millions.
        public var megaFLOPsPerStep: Double = 0
        /// This rank's peak resident memory (rank 0's in the reported row), MiB.
        public var peakResidentMiB: Double = 0
        /// Rank 0's milliseconds per timed base step in each `StepPhase`, "waiting for θ's all-reduce" (after
        /// backward) and "other" (see `MetaBenchmark.Result.phaseMillisecondsPerStep`).
        public var phaseMillisecondsPerStep: [String: Double] = [:]
        /// λ at the end, for comparisons across rank counts.
        public var lambda: [Float]
        public var thetaNorm: Double

        /// 1 − (waited θ after the slowest rank's backward) / all-reduce alone: the share of the all-reduce
        /// overlapped with backward (0 on one rank).
        public var hiddenShare: Double {
            allReduceMilliseconds > 0 ? max(0, 1 - (dataWaitMillisecondsPerStep ?? waitMillisecondsPerStep) / allReduceMilliseconds) : 0
        }
    }

    /// Builds the configured problem, trains it on `communicator`'s ranks and measures it.
    public static func run(_ c: Configuration, communicator: any Communicator) throws -> Result {
        switch c.model {
        case .mlp: try runMLP(c, communicator: communicator)
        case .textTransformer: try runTextTransformer(c, communicator: communicator)
        }
    }

    private static func runMLP(_ c: Configuration, communicator: any Communicator) throws -> Result {
        let program = MetaBenchmark.syntheticProgram(hidden: c.hidden, batchSize: c.batchSize, meta: c.meta, seed: c.seed).program
        try program.shard(rank: communicator.rank, of: communicator.size)
        var result = try measure(program, c, communicator: communicator)
        result.hidden = c.hidden
        result.architecture = c.hidden.map(String.init).joined(separator: "-")
        return result
    }

    /// Trains `program` for `c.warmupSteps` untimed and `c.steps` timed base steps, verifies the replicas
    /// agree, and times one all-reduce of one base batch's gradient with nothing to overlap it. The model fields of the
    /// result (`architecture`, `hidden`, `parameters`) are left for the caller.
    static func measure<P: BilevelProgram>(_ program: P, _ c: Configuration, communicator: any Communicator) throws -> Result {
        try Sharding.checkEqualShards(batchSize: c.batchSize, ranks: communicator.size)
        var configuration = c.meta.engineConfiguration(seed: c.seed &+ 3, for: P.self)
        configuration.bucketCapacityBytes = Int(c.bucketMegabytes * 1_048_576)
        configuration.replicaCheckInterval = nil
        configuration.progressDuringBackward = c.progressDuringBackward
        configuration.sparseRowReduction = c.sparseRowReduction
        let engine = Engine(program: program, configuration: configuration, communicator: communicator)
        try engine.run(steps: c.warmupSteps)
        try communicator.barrier()
        engine.recordsBaseCommunicationRounds = true
        let base0 = engine.baseCommunication, meta0 = engine.metaCommunication, phases0 = engine.phases.seconds
        let start = DispatchTime.now().uptimeNanoseconds
        let flops = try FLOPCounter.measure { try engine.run(steps: c.warmupSteps + c.steps) }.flops
        try communicator.barrier()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let base = engine.baseCommunication, meta = engine.metaCommunication
        try engine.verifyReplicas()

        let waits = try splitWaits(engine.baseCommunicationRounds, communicator: communicator)

        // The same all-reduce with nothing to hide it: every bucket of one base batch's gradient (so row-sparse
        // tables send the rows a real batch touches), median of 5.
        let reducer = BucketedAllReduce(
            communicator: communicator, counts: program.base.tensors.map(\.count),
            rowWidths: c.sparseRowReduction ? program.base.rowWidths : nil,
            capacityBytes: configuration.bucketCapacityBytes)
        let gradient = Autodiff.gradients(of: program.baseLoss(program.nextBaseBatch(), context: engine.context), wrt: program.base.tensors)
        var times: [Double] = []
        for _ in 0..<5 {
            try communicator.barrier()
            let t = DispatchTime.now().uptimeNanoseconds
            _ = try reducer.reduce(gradient)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
        }
        times.sort()
        let steps = Double(c.steps)
        let sparseRows = base.sparseRowsTotal - base0.sparseRowsTotal
        let parameterCount = program.base.tensors.reduce(0) { $0 + $1.count }
        var result = Result(
            method: c.meta.method.rawValue, model: c.model.rawValue, architecture: "", hidden: [],
            parameters: parameterCount, unroll: c.meta.unroll,
            ranks: communicator.size, batchSize: c.batchSize, metaBatchSize: c.meta.batchSize, blasThreads: BLAS.threads,
            progressDuringBackward: c.progressDuringBackward,
            samplesPerSecond: steps * Double(c.batchSize) / seconds,
            waitMillisecondsPerStep: (waits?.total ?? (base.waitSeconds - base0.waitSeconds)) / steps * 1000,
            skewWaitMillisecondsPerStep: waits.map { $0.skew / steps * 1000 },
            dataWaitMillisecondsPerStep: waits.map { $0.data / steps * 1000 },
            sparseRowShare: sparseRows > 0 ? Double(base.sparseRowsSent - base0.sparseRowsSent) / Double(sparseRows) : nil,
            metaWaitMillisecondsPerStep: (meta.waitSeconds - meta0.waitSeconds) / steps * 1000,
            launchMillisecondsPerStep: ((base.launchSeconds - base0.launchSeconds) + (meta.launchSeconds - meta0.launchSeconds)) / steps
                * 1000,
            allReduceMilliseconds: communicator.isDistributed ? times[2] * 1000 : 0,
            bytesPerStep: Double((base.bytes - base0.bytes) + (meta.bytes - meta0.bytes)) / steps,
            checksum: String(engine.replicaChecksum(), radix: 16),
            lambda: program.meta.tensors.flatMap(\.scalars),
            thetaNorm: program.base.tensors.reduce(0.0) { total, t in total + t.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }
                .squareRoot())
        result.megaFLOPsPerStep = Double(flops) / steps / 1e6
        let phaseSeconds = engine.phases.seconds.merging(phases0.mapValues { -$0 }) { $0 + $1 }
        result.phaseMillisecondsPerStep = PhaseBreakdown.millisecondsPerStep(
            phaseSeconds, over: c.steps, totalSeconds: seconds, waitSeconds: waits?.total ?? (base.waitSeconds - base0.waitSeconds))
        result.peakResidentMiB = BenchmarkClock.peakResidentMiB
        return result
    }

    /// The gradient waits of `rounds` (this rank's), split into waiting for the slowest rank's backward and
    /// waiting for data after it, in seconds summed over rounds and averaged over ranks (total = skew + data).
    /// The ranks' clocks are compared directly, so the figures hold for ranks on one machine (as `bench ddp`
    /// runs them). Nil on one rank. Only rank 0 sees every rank's times; the other ranks compare their own with
    /// themselves (skew 0, data = their whole wait), figures nobody reports.
    static func splitWaits(
        _ rounds: [ReductionRoundTime], communicator: any Communicator
    ) throws -> (total: Double, skew: Double, data: Double)? {
        guard communicator.isDistributed else { return nil }
        let bytes = rounds.flatMap { [$0.waitStart, $0.waitEnd] }.withUnsafeBytes { Array($0) }
        let all =
            try communicator.gather(bytes, root: 0)?.map { chunk in
                chunk.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
            } ?? [rounds.flatMap { [$0.waitStart, $0.waitEnd] }]
        var total = 0.0, skew = 0.0, data = 0.0
        for k in 0..<rounds.count {
            guard all.allSatisfy({ $0.count > 2 * k + 1 }) else { break }
            let latest = all.map { $0[2 * k] }.max()!
            for times in all {
                let (start, end) = (times[2 * k], times[2 * k + 1])
                total += Double(end - start) / 1e9
                // A rank cannot finish waiting before the slowest one starts to (the reductions need its data).
                skew += Double(min(latest, end) - start) / 1e9
                data += Double(end > latest ? end - latest : 0) / 1e9
            }
        }
        let ranks = Double(all.count)
        return (total / ranks, skew / ranks, data / ranks)
    }
}
