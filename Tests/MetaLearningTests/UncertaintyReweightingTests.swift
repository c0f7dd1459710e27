import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Tensors
import Testing

/// The data-pruning program: weights from [loss, uncertainty against a moving average], the meta loss on the
/// training data itself, and a resumed run that continues exactly (θ, λ, the average and BatchNorm statistics).
@Suite struct UncertaintyReweightingTests {
    static func makeEngine(seed: UInt64 = 4) -> (Engine<UncertaintyReweightingProgram<SmallCNN>>, UncertaintyReweightingProgram<SmallCNN>) {
        let data = SyntheticNoisyLabels(classes: 4, dimension: 784, meanStd: 0.5, trainCount: 96, metaCount: 8, testCount: 8,
                                        noise: 0.3, seed: 1)
        var rng = RandomGenerator(seed: seed)
        let model = SmallCNN(channels: (2, 3), classes: 4, rng: &rng)
        var copy = RandomGenerator(seed: seed)
        let averageModel = SmallCNN(channels: (2, 3), classes: 4, rng: &copy)
        let program = UncertaintyReweightingProgram(
            model: model, averageModel: averageModel, averageDecay: 0.9, weightNet: MetaWeightNet(inputs: 2, hidden: 8, rng: &rng),
            data: data.train, baseOptimizer: SGD(learningRate: 0.05, momentum: 0.9), baseSchedule: .constant,
            metaOptimizer: Adam(learningRate: 1e-2), batchSize: 16, metaBatchSize: 16, normalization: .weightSum, seed: 7
        ) { model, x, context in model(x.reshaped([x.shape[0], 1, 28, 28]), context) }
        let engine = Engine(program: program, configuration: .init(method: .sama(alpha: 0.1), unroll: 2, seed: 3))
        engine.observe { event in if case .baseStep = event { program.updateAverage() } }
        return (engine, program)
    }

    static func state(_ program: UncertaintyReweightingProgram<SmallCNN>) -> [[Float]] {
        program.model.namedTensors().map(\.tensor.scalars) + program.weightNet.namedTensors().map(\.tensor.scalars)
            + program.average.average.namedTensors().map(\.tensor.scalars)
    }

    @Test func weightsComeFromLossAndUncertaintyAndTheAverageMoves() throws {
        let (engine, program) = Self.makeEngine()
        let before = program.average.average.namedParameters().map(\.tensor.scalars)
        try engine.run(steps: 6)
        #expect(engine.metaStep == 3 && program.average.updates == 6)
        let weights = try #require(program.lastWeights).weights
        #expect(weights.count == 16 && weights.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(program.average.average.namedParameters().map(\.tensor.scalars) != before, "the average follows the model")
        let (x, labels) = program.data.rows([0, 1, 2])
        let statistics = program.statistics(indices: [0, 1, 2], liveLogits: program.model(x.reshaped([3, 1, 28, 28]), .evaluation()),
                                            labels: labels)
        #expect(statistics.shape == [3, 2] && statistics.scalars.allSatisfy { $0 >= 0 }, "loss and KL are non-negative")
    }

    @Test func resumedRunContinuesExactly() throws {
        let (straight, straightProgram) = Self.makeEngine()
        try straight.run(steps: 8)
        let (first, _) = Self.makeEngine()
        try first.run(steps: 4)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("uncertainty-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try first.saveCheckpoint(to: file)
        let (resumed, resumedProgram) = Self.makeEngine(seed: 99)  // other initial values: the checkpoint must restore all
        try resumed.loadCheckpoint(from: file)
        try resumed.run(steps: 8)
        let same = Self.state(resumedProgram) == Self.state(straightProgram)
        #expect(same, "θ, λ, the average or the buffers differ after resuming")
        #expect(resumedProgram.model.namedTensors().contains { !$0.tensor.requiresGrad }, "the CNN has BatchNorm buffers")
    }
}
