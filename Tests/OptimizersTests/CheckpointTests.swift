import Foundation
import NeuralNetworks
import Testing
import Tensors
@testable import Optimizers

@Suite struct CheckpointTests {
    /// Trains `steps` steps of a small MLP on fixed data, optionally saving and reloading halfway.
    private func train(steps: Int, reloadAt: Int?) throws -> [Float] {
        var rng = RandomGenerator(seed: 5)
        var model = MLP(widths: [3, 8, 2], rng: &rng)
        var optimizer: any Optimizer = Adam.adamW(learningRate: 0.01)
        let x = Tensor.normal([16, 3], using: &rng)
        let labels = (0..<16).map { $0 % 2 }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-ckpt-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        for step in 0..<steps {
            if step == reloadAt {
                try TrainingCheckpoint.save(model: model, optimizer: optimizer, metadata: ["step": "\(step)"], to: url)
                var other = RandomGenerator(seed: 99)
                model = MLP(widths: [3, 8, 2], rng: &other)  // fresh objects, different weights
                optimizer = Adam.adamW(learningRate: 0.5)
                let meta = try TrainingCheckpoint.load(into: model, optimizer: optimizer, from: url)
                #expect(meta["step"] == "\(step)")
            }
            let named = model.namedParameters()
            let loss = Loss.meanCrossEntropy(model(x, .evaluation()), labels: labels)
            optimizer.step(named, gradients: Autodiff.gradients(of: loss, wrt: named.map(\.tensor)))
        }
        return model.parameters().flatMap(\.scalars)
    }

    @Test func resumedTrainingMatchesUninterrupted() throws {
        let straight = try train(steps: 10, reloadAt: nil)
        let resumed = try train(steps: 10, reloadAt: 4)
        #expect(straight == resumed)
    }

    @Test func aPlainSafetensorsFileIsNotACheckpoint() throws {
        var rng = RandomGenerator(seed: 1)
        let model = MLP(widths: [2, 2], rng: &rng)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-plain-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(.init(tensors: model.stateDictionary()), to: url)
        #expect(throws: CheckpointError.notACheckpoint(url.path, found: nil)) {
            try TrainingCheckpoint.load(into: model, optimizer: Adam(), from: url)
        }
    }
}
