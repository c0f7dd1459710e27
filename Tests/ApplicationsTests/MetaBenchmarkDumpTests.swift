import Foundation
import Testing
import MetaLearning
import NeuralNetworks
import Tensors
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// `MetaBenchmark.dumpProblem` writes exactly what a `bench meta` run starts from and consumes: the program
/// `run` builds (same parameters), and the batches its engine draws, in order.
@Suite struct MetaBenchmarkDumpTests {
    private func floats(_ folder: URL, _ name: String) throws -> [Float] {
        let data = try Data(contentsOf: folder.appendingPathComponent("\(name).f32"))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test func theDumpIsWhatTheEngineConsumes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var meta = MetaBenchmark.defaultMeta
        meta.method = .darts
        meta.alpha = 0.01
        var c = MetaBenchmark.Configuration(meta: meta)
        c.hidden = [8]
        c.seed = 6
        let steps = 4
        _ = try MetaBenchmark.dumpProblem(c, steps: steps, to: folder)

        // A fresh program as `run` builds it, recording the batches its engine draws.
        let (data, model, program) = MetaBenchmark.makeProgram(c)
        for (key, tensor) in model.namedParameters() { #expect(try floats(folder, "theta.\(key)") == tensor.scalars, "theta.\(key)") }
        for (key, tensor) in program.weightNet.namedParameters() {
            #expect(try floats(folder, "lambda.\(key)") == tensor.scalars, "lambda.\(key)")
        }
        #expect(try floats(folder, "trainX") == data.train.features.scalars)
        #expect(try floats(folder, "corrupted") == data.corrupted.map { $0 ? 1 : 0 })
        let recorder = BatchRecorder(program)
        let engine = Engine(program: recorder, configuration: .init(method: .darts(), unroll: 1, warmupSteps: 0, seed: c.seed &+ 3))
        try engine.run(steps: steps)
        #expect(recorder.baseBatches.count == steps && recorder.metaBatches.count == steps)
        #expect(try floats(folder, "batches").map(Int.init) == recorder.baseBatches.flatMap { $0 })
        #expect(try floats(folder, "metaBatches").map(Int.init) == recorder.metaBatches.flatMap { $0 })
    }
}

/// The dense reweighting program, noting every batch the engine asks it for.
private final class BatchRecorder: BilevelProgram {
    let inner: DenseReweightingProgram
    var baseBatches: [[Int]] = [], metaBatches: [[Int]] = []
    init(_ inner: DenseReweightingProgram) { self.inner = inner }
    var base: Level { inner.base }
    var meta: Level { inner.meta }
    func nextBaseBatch() -> DenseReweightingProgram.Batch {
        let batch = inner.nextBaseBatch(); baseBatches.append(batch.indices); return batch
    }
    func nextMetaBatch() -> DenseReweightingProgram.Batch {
        let batch = inner.nextMetaBatch(); metaBatches.append(batch.indices); return batch
    }
    func baseLoss(_ batch: DenseReweightingProgram.Batch, context: ForwardContext) -> Tensor { inner.baseLoss(batch, context: context) }
    func metaLoss(_ batch: DenseReweightingProgram.Batch, context: ForwardContext) -> Tensor { inner.metaLoss(batch, context: context) }
}
