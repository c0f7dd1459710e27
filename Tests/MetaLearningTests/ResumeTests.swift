import Foundation
import Testing
import NeuralNetworks
import Optimizers
import Tensors
@testable import MetaLearning

@Suite struct ResumeTests {
    static let data = SyntheticNoisyLabels(
        classes: 4, dimension: 12, meanStd: 0.5, trainCount: 600, metaCount: 80, testCount: 10, noise: 0.4, seed: 3)

    /// A fresh program and engine; `initSeed` changes the initial weights (a resumed run must not depend on them).
    func makeEngine(initSeed: UInt64, method: any Hypergradient) -> (Engine<DenseReweightingProgram>, DenseReweightingProgram) {
        var rng = RandomGenerator(seed: initSeed)
        let program = DenseReweightingProgram(
            model: MLP(widths: [12, 16, 4], dropout: 0.2, rng: &rng), weightNet: MetaWeightNet(hidden: 8, rng: &rng),
            train: Self.data.train, clean: Self.data.meta,
            baseOptimizer: Adam(learningRate: 1e-2), metaOptimizer: Adam(learningRate: 1e-2),
            batchSize: 32, metaBatchSize: 16, normalization: .weightSum, seed: 9)
        let engine = Engine(
            program: program, configuration: .init(method: method, unroll: 3, warmupSteps: 4, gradientAccumulation: 2, seed: 21))
        return (engine, program)
    }

    func snapshot(_ p: DenseReweightingProgram) -> [Float] { (p.base.tensors + p.meta.tensors).flatMap(\.scalars) }

    @Test(arguments: [SAMA(alpha: 0.1), ConjugateGradient(iterations: 2)] as [any Hypergradient])
    func resumedRunMatchesUninterruptedRun(_ method: any Hypergradient) throws {
        let (straight, straightProgram) = makeEngine(initSeed: 1, method: method)
        try straight.run(steps: 41)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-program-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let (first, _) = makeEngine(initSeed: 1, method: method)
        try first.run(steps: 19)  // stops inside an accumulation window (19 is odd)
        try first.saveCheckpoint(to: url)
        let (resumed, resumedProgram) = makeEngine(initSeed: 2, method: method)
        try resumed.loadCheckpoint(from: url)
        #expect(resumed.baseStep == 19 && resumed.metaStep == first.metaStep)
        try resumed.run(steps: 41)
        #expect(straight.metaStep == resumed.metaStep && straight.metaStep > 3)
        #expect(snapshot(straightProgram) == snapshot(resumedProgram), "resumed θ and λ differ from the uninterrupted run")
    }

    @Test func evaluationAndCheckpointEventsFireOnSchedule() throws {
        var (engine, _) = makeEngine(initSeed: 1, method: .sama(alpha: 0.1))
        engine = Engine(
            program: engine.program,
            configuration: .init(
                method: .sama(alpha: 0.1), unroll: 3, seed: 21,
                evaluationInterval: 10, checkpointInterval: 15))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-ckpts-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        engine.enableCheckpoints(directory: directory)
        var evaluations: [Int] = [], checkpoints: [(Int, String)] = []
        engine.evaluate = { step in ["accuracy": Double(step)] }
        engine.observe { event in
            switch event {
            case let .evaluation(step, metrics): evaluations.append(step); #expect(metrics["accuracy"] == Double(step))
            case let .checkpoint(step, path): checkpoints.append((step, path))
            default: break
            }
        }
        try engine.run(steps: 32)
        #expect(evaluations == [10, 20, 30, 32])
        #expect(checkpoints.map(\.0) == [15, 30])
        let (fresh, _) = makeEngine(initSeed: 5, method: .sama(alpha: 0.1))
        try fresh.loadCheckpoint(from: URL(fileURLWithPath: checkpoints[1].1))
        #expect(fresh.baseStep == 30)
        // A checkpoint that cannot be written stops the run with an error.
        let blocked = directory.appendingPathComponent("file")
        try Data().write(to: blocked)
        engine.enableCheckpoints(directory: blocked)
        #expect(throws: (any Error).self) { try engine.run(steps: 45) }
    }

    @Test func aModelCheckpointIsNotAProgramCheckpoint() throws {
        let (engine, program) = makeEngine(initSeed: 1, method: .sama())
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-model-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try TrainingCheckpoint.save(model: program.model, optimizer: program.base.optimizer, to: url)
        #expect(throws: ProgramCheckpointError.notAProgramCheckpoint(url.path)) { try engine.loadCheckpoint(from: url) }
    }
}
