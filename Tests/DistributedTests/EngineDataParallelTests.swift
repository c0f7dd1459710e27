import Foundation
import Testing
import Distributed
import MetaLearning
import NeuralNetworks
import Optimizers
import Tensors

/// The engine on two and four ranks (threads) against one process on the same global batches.
@Suite struct EngineDataParallelTests {
    struct Final: Sendable { var theta: [[Float]]; var lambda: [[Float]]; var checksum: UInt64; var baseBytes: Int; var metaRounds: Int }

    static let data = SyntheticNoisyLabels(
        classes: 4, dimension: 12, meanStd: 0.5, trainCount: 240, metaCount: 48,
        testCount: 8, noise: 0.3, seed: 1)

    static func train(
        _ method: any Hypergradient, communicator: any Communicator, steps: Int, unroll: Int = 1,
        accumulation: Int = 1, bucketBytes: Int = 256
    ) throws -> Final {
        var rng = RandomGenerator(seed: 2)
        let program = DenseReweightingProgram(
            model: MLP(widths: [12, 16, 4], rng: &rng), weightNet: MetaWeightNet(hidden: 8, rng: &rng),
            train: data.train, clean: data.meta,
            baseOptimizer: Adam(learningRate: 1e-2), metaOptimizer: Adam(learningRate: 1e-2),
            batchSize: 24, metaBatchSize: 16, normalization: .mean, seed: 3)
        program.uniformWeights = !method.learnsMeta
        try program.shard(rank: communicator.rank, of: communicator.size)
        var configuration = Engine<DenseReweightingProgram>.Configuration(
            method: method, unroll: unroll, gradientAccumulation: accumulation, seed: 4)
        configuration.bucketCapacityBytes = bucketBytes
        configuration.replicaCheckInterval = 1
        let engine = Engine(program: program, configuration: configuration, communicator: communicator)
        try engine.run(steps: steps)
        return Final(
            theta: program.base.tensors.map(\.scalars), lambda: program.meta.tensors.map(\.scalars),
            checksum: engine.replicaChecksum(), baseBytes: engine.baseCommunication.bytes, metaRounds: engine.metaCommunication.rounds)
    }

    static func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).map { x, y in zip(x, y).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    /// Tolerance: the ranks add the shard means in another order than one process sums the batch, so results
    /// differ by float rounding (~1e-7 relative per step), which Adam (lr 1e-2) carries along for 12 steps.
    /// Measured maximum difference: see the printed values; 2e-4 leaves room, while a wrong scheme (e.g. a sum
    /// instead of a mean, or an unreduced g⁻) moves parameters by 1e-2 or more.
    @Test(
        arguments: [
            (SAMA(alpha: 0.1, baseUpdateAlongV: true), 1, 1),
            (SAMA(alpha: 0.1, baseUpdateAlongV: false), 2, 1),
            (SAMANA(alpha: 0.1, baseUpdateAlongV: true), 1, 2),
            (DARTS(), 2, 2),
            (Finetune(), 1, 2),
        ] as [(any Hypergradient, Int, Int)])
    func dataParallelEqualsOneProcessOnTheGlobalBatch(_ method: any Hypergradient, _ unroll: Int, _ accumulation: Int) throws {
        let single = try Self.train(
            method, communicator: SingleProcessCommunicator(), steps: 12, unroll: unroll, accumulation: accumulation)
        for size in [2, 4] {
            let ranks = try InProcessGroup.run(size: size) { c in
                try Self.train(method, communicator: c, steps: 12, unroll: unroll, accumulation: accumulation)
            }
            for r in ranks {
                #expect(r.theta == ranks[0].theta && r.lambda == ranks[0].lambda, "\(method.description): replicas differ")
                #expect(r.checksum == ranks[0].checksum)
            }
            let dTheta = Self.maxDifference(ranks[0].theta, single.theta), dLambda = Self.maxDifference(ranks[0].lambda, single.lambda)
            print(
                "ddp \(method.description) unroll \(unroll) accumulation \(accumulation) ranks \(size): max |Δθ| \(dTheta), max |Δλ| "
                    + "\(dLambda)"
            )
            #expect(dTheta < 2e-4, "\(method.description) on \(size) ranks: θ differs from one process by \(dTheta)")
            #expect(dLambda < 2e-4, "\(method.description) on \(size) ranks: λ differs from one process by \(dLambda)")
            if method.learnsMeta {
                #expect(Self.maxDifference(single.lambda, Self.initialLambda) > 1e-3, "λ must move for the test to mean anything")
            }
            // Only the last micro-step of each window communicates.
            let parameterBytes = single.theta.reduce(0) { $0 + $1.count } * 4
            #expect(ranks[0].baseBytes == parameterBytes * 12 / accumulation)
        }
    }

    static let initialLambda: [[Float]] = {
        var rng = RandomGenerator(seed: 2)
        _ = MLP(widths: [12, 16, 4], rng: &rng)
        return MetaWeightNet(hidden: 8, rng: &rng).namedParameters().map { $0.tensor.scalars }
    }()

    /// Neumann and CG average the ranks' hypergradients: λ stays identical on every rank.
    @Test(arguments: [Neumann(), ConjugateGradient()] as [any Hypergradient])
    func implicitMethodsKeepReplicasIdentical(_ method: any Hypergradient) throws {
        let ranks = try InProcessGroup.run(size: 2) { c in try Self.train(method, communicator: c, steps: 6) }
        #expect(ranks[0].lambda == ranks[1].lambda && ranks[0].theta == ranks[1].theta)
        #expect(ranks[0].metaRounds == 6)
    }

    @Test func divergedReplicaStopsTheRunOnEveryRank() throws {
        let messages = try InProcessGroup.run(size: 2) { c -> String in
            var rng = RandomGenerator(seed: 2)
            let program = DenseReweightingProgram(
                model: MLP(widths: [12, 16, 4], rng: &rng), weightNet: MetaWeightNet(hidden: 8, rng: &rng),
                train: Self.data.train, clean: Self.data.meta,
                baseOptimizer: Adam(learningRate: 1e-2), metaOptimizer: Adam(learningRate: 1e-2),
                batchSize: 24, metaBatchSize: 16, normalization: .mean, seed: 3)
            try program.shard(rank: c.rank, of: c.size)
            var configuration = Engine<DenseReweightingProgram>.Configuration(method: .sama(alpha: 0.1), seed: 4)
            configuration.replicaCheckInterval = 3
            let engine = Engine(program: program, configuration: configuration, communicator: c)
            try engine.run(steps: 4)
            if c.rank == 1 { program.meta.tensors[0].withUnsafeMutableBufferPointer { $0[0] += 1e-6 } }
            do { try engine.run(steps: 6); return "no error" } catch let error as ReplicaDivergence { return error.localizedDescription }
        }
        for m in messages { #expect(m.contains("base step 6") && m.contains("rank 1"), "\(m)") }
    }
}

/// Sharded evaluation and per-sample gathering of the reweighting program equal their one-process forms.
@Suite struct ShardedResultsTests {
    @Test func shardedAccuracyAndGatheredWeightsEqualOneProcess() throws {
        @Sendable func program() -> DenseReweightingProgram {
            var rng = RandomGenerator(seed: 2)
            return DenseReweightingProgram(
                model: MLP(widths: [12, 16, 4], rng: &rng), weightNet: MetaWeightNet(hidden: 8, rng: &rng),
                train: EngineDataParallelTests.data.train, clean: EngineDataParallelTests.data.meta,
                baseOptimizer: Adam(learningRate: 1e-2), metaOptimizer: Adam(learningRate: 1e-2),
                batchSize: 24, metaBatchSize: 16, normalization: .mean, seed: 3)
        }
        let single = program()
        let weights = single.sampleWeights(), accuracy = single.accuracy(on: EngineDataParallelTests.data.train)
        let ranks = try InProcessGroup.run(size: 3) { c in
            let p = program()
            return (try p.sampleWeights(communicator: c), try p.accuracy(on: EngineDataParallelTests.data.train, communicator: c))
        }
        // Same values up to the last bit (sgemm blocks 80-row shards differently from 240 rows).
        let gathered = try #require(ranks[0].0)
        #expect(gathered.count == weights.count)
        #expect(zip(gathered, weights).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(ranks[1].0 == nil && ranks[2].0 == nil)
        for r in ranks { #expect(abs(r.1 - accuracy) < 1e-12) }
        #expect(accuracy > 0 && accuracy < 1)
    }
}

/// A data-parallel run resumed from rank 0's checkpoint continues exactly as the uninterrupted run.
@Suite struct DataParallelResumeTests {
    @Test func resumedRanksMatchTheUninterruptedRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-ddp-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        @Sendable func engine(_ c: any Communicator, checkpointInterval: Int? = nil) throws -> Engine<DenseReweightingProgram> {
            var rng = RandomGenerator(seed: 2)
            let program = DenseReweightingProgram(
                model: MLP(widths: [12, 16, 4], rng: &rng), weightNet: MetaWeightNet(hidden: 8, rng: &rng),
                train: EngineDataParallelTests.data.train, clean: EngineDataParallelTests.data.meta,
                baseOptimizer: Adam(learningRate: 1e-2), metaOptimizer: Adam(learningRate: 1e-2),
                batchSize: 24, metaBatchSize: 16, normalization: .mean, seed: 3)
            try program.shard(rank: c.rank, of: c.size)
            let engine = Engine(
                program: program,
                configuration: .init(
                    method: .sama(alpha: 0.1), unroll: 2, gradientAccumulation: 2,
                    seed: 4, checkpointInterval: checkpointInterval), communicator: c)
            engine.enableCheckpoints(directory: directory)
            return engine
        }
        let results = try InProcessGroup.run(size: 2) { c -> ([Float], [Float]) in
            let straight = try engine(c)
            try straight.run(steps: 14)
            let first = try engine(c, checkpointInterval: 8)
            try first.run(steps: 10)
            try c.barrier()  // rank 0 has written step-8
            let resumed = try engine(c)
            try resumed.loadCheckpoint(from: directory.appendingPathComponent("step-8.safetensors"))
            try resumed.run(steps: 14)
            func all(_ e: Engine<DenseReweightingProgram>) -> [Float] {
                (e.program.base.tensors + e.program.meta.tensors).flatMap(\.scalars)
            }
            return (all(straight), all(resumed))
        }
        for (straight, resumed) in results { #expect(straight == resumed) }
        #expect(results[0].1 == results[1].1)
        #expect(throws: ShardingError(batchSize: 24, ranks: 5)) {
            _ = try InProcessGroup.run(size: 5) { c in
                _ = try engine(c); return 0
            }
        }

        // A checkpoint inside an accumulation window would lose the other ranks' partial sums.
        #expect(throws: ProgramCheckpointError.insideAccumulationWindow(step: 3, accumulation: 2)) {
            _ = try InProcessGroup.run(size: 2) { c in try engine(c, checkpointInterval: 3).run(steps: 4) }
        }
    }
}
