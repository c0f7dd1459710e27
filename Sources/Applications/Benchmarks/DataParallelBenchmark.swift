import Distributed
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Tensors

/// `winnow bench ddp`: the synthetic noisy-label problem of `bench meta` trained on one rank or data-parallel
/// on several (one process per rank under `mpirun`), measuring throughput and how much of the gradient
/// all-reduce is hidden behind backward.
public enum DataParallelBenchmark {
    public struct Configuration: Codable, Sendable {
        public var method: HypergradientMethod
        public var hidden: [Int] = [2048, 2048]
        public var unroll: Int = 1
        /// Timed base steps (after `warmupSteps` untimed ones).
        public var steps: Int = 30
        public var warmupSteps: Int = 3
        /// Global batch size (split over the ranks).
        public var batchSize: Int = 256
        public var metaBatchSize: Int = 100
        public var bucketMegabytes: Double = 4
        /// Test pending all-reduces from the gradient-ready hook (see `Engine.Configuration`).
        public var progressDuringBackward = true
        public var seed: UInt64 = 0
        public init(method: HypergradientMethod) { self.method = method }
    }

    public struct Result: Codable, Sendable {
        public var method: String
        public var hidden: [Int]
        public var parameters: Int
        public var unroll: Int
        public var ranks: Int
        public var batchSize: Int
        public var blasThreads: Int
        public var progressDuringBackward: Bool
        public var samplesPerSecond: Double
        /// Per timed base step: time blocked waiting for θ's gradient all-reduces after backward (not hidden).
        public var waitMillisecondsPerStep: Double
        /// Per timed base step: time blocked waiting for λ's hypergradient all-reduce (mostly waiting for the
        /// slower rank: λ is 1.2 kB).
        public var metaWaitMillisecondsPerStep: Double
        /// Per timed base step: seconds packing gradients and starting reductions inside backward.
        public var launchMillisecondsPerStep: Double
        /// One bucketed all-reduce of the whole gradient with nothing to overlap it, milliseconds.
        public var allReduceMilliseconds: Double
        /// Bytes each rank sends into reductions per base step (gradients, plus λ on meta steps).
        public var bytesPerStep: Double
        /// Checksum of θ, λ and optimizer state at the end (the same on every rank; verified).
        public var checksum: String
        /// λ at the end, for comparisons across rank counts.
        public var lambda: [Float]
        public var thetaNorm: Double
    }

    public static func run(_ c: Configuration, communicator: any Communicator) throws -> Result {
        let data = SyntheticNoisyLabels(seed: c.seed)
        var rng = RandomGenerator(seed: c.seed &+ 1)
        let model = MLP(widths: [784] + c.hidden + [10], rng: &rng)
        let program = DenseReweightingProgram(model: model, weightNet: MetaWeightNet(rng: &rng), train: data.train, clean: data.meta,
                                              baseOptimizer: Adam(learningRate: 1e-3), metaOptimizer: Adam(learningRate: 1e-3),
                                              batchSize: c.batchSize, metaBatchSize: c.metaBatchSize, normalization: .mean, seed: c.seed &+ 2)
        program.uniformWeights = c.method == .finetune
        try program.shard(rank: communicator.rank, of: communicator.size)
        var configuration = Engine<DenseReweightingProgram>.Configuration(method: c.method, unroll: c.unroll, seed: c.seed &+ 3)
        configuration.bucketCapacityBytes = Int(c.bucketMegabytes * 1_048_576)
        configuration.replicaCheckInterval = nil
        configuration.progressDuringBackward = c.progressDuringBackward
        let engine = Engine(program: program, configuration: configuration, communicator: communicator)
        try engine.run(steps: c.warmupSteps)
        try communicator.barrier()
        let base0 = engine.baseCommunication, meta0 = engine.metaCommunication
        let start = DispatchTime.now().uptimeNanoseconds
        try engine.run(steps: c.warmupSteps + c.steps)
        try communicator.barrier()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let base = engine.baseCommunication, meta = engine.metaCommunication
        try engine.verifyReplicas()

        // The same all-reduce with nothing to hide it: every bucket of a zero gradient, median of 5.
        let reducer = BucketedAllReduce(communicator: communicator, counts: program.base.tensors.map(\.count),
                                        capacityBytes: configuration.bucketCapacityBytes)
        let zeros = program.base.tensors.map { Tensor.zeros($0.shape) }
        var times: [Double] = []
        for _ in 0..<5 {
            try communicator.barrier()
            let t = DispatchTime.now().uptimeNanoseconds
            _ = try reducer.reduce(zeros)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
        }
        times.sort()
        let steps = Double(c.steps)
        return Result(method: c.method.name, hidden: c.hidden, parameters: model.parameterCount, unroll: c.unroll,
                      ranks: communicator.size, batchSize: c.batchSize, blasThreads: BLAS.threads, progressDuringBackward: c.progressDuringBackward,
                      samplesPerSecond: steps * Double(c.batchSize) / seconds,
                      waitMillisecondsPerStep: (base.waitSeconds - base0.waitSeconds) / steps * 1000,
                      metaWaitMillisecondsPerStep: (meta.waitSeconds - meta0.waitSeconds) / steps * 1000,
                      launchMillisecondsPerStep: ((base.launchSeconds - base0.launchSeconds) + (meta.launchSeconds - meta0.launchSeconds)) / steps * 1000,
                      allReduceMilliseconds: communicator.isDistributed ? times[2] * 1000 : 0,
                      bytesPerStep: Double((base.bytes - base0.bytes) + (meta.bytes - meta0.bytes)) / steps,
                      checksum: String(engine.replicaChecksum(), radix: 16),
                      lambda: program.meta.tensors.flatMap(\.scalars),
                      thetaNorm: program.base.tensors.reduce(0.0) { total, t in total + t.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot())
    }
}
