import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Tensors
import Testing

/// Continued pretraining with per-token MLM weights (TARTAN-MT + SAMA) on a tiny BERT: weights start at exactly
/// 1, SAMA moves them, fixed weights stay 1, and a resumed run continues exactly.
@Suite struct AuxiliaryTokenReweightingTests {
    // Ids: 0 [PAD], 1 [UNK], 2 [CLS], 3 [SEP], 4 [MASK], words 5..<24.
    static let configuration = BertConfiguration(
        layers: 1, hidden: 8, heads: 2, intermediate: 16, vocabularySize: 24, maxPositions: 12, dropout: 0.1,
        layerNormEpsilon: 1e-5)

    /// Texts of 3–8 random words; class 1 when word 5 occurs more often than word 6.
    static func taskData(_ count: Int, seed: UInt64) -> TokenClassificationData {
        var rng = RandomGenerator(seed: seed)
        var tokens: [[Int]] = [], labels: [Int] = []
        for _ in 0..<count {
            let words = (0..<(3 + rng.integer(below: 6))).map { _ in 5 + rng.integer(below: 19) }
            tokens.append([2] + words + [3])
            labels.append(words.filter { $0 == 5 }.count > words.filter { $0 == 6 }.count ? 1 : 0)
        }
        return TokenClassificationData(tokens: tokens, labels: labels, classCount: 2)
    }

    static func documents(_ count: Int, seed: UInt64) -> [[Int]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in [2] + (0..<(4 + rng.integer(below: 7))).map { _ in 5 + rng.integer(below: 19) } + [3] }
    }

    static func makeEngine(
        seed: UInt64 = 1, uniformWeights: Bool = false, method: some Hypergradient = .sama(alpha: 0.1)
    ) -> (Engine<AuxiliaryTokenReweightingProgram>, AuxiliaryTokenReweightingProgram) {
        var rng = RandomGenerator(seed: seed)
        let classifier = TransformerTextClassifier(configuration, classes: 2, rng: &rng)
        let encoder = classifier.model.encoder
        let head = MaskedLanguageModelHead(tiedTo: encoder, rng: &rng)
        let weightNet = MetaWeightNet(inputs: 1, hidden: 100, scale: 2, zeroInitialisedOutput: true, rng: &rng)
        let program = AuxiliaryTokenReweightingProgram(
            model: classifier, head: head, weightNet: weightNet, task: taskData(48, seed: 2), metaTask: taskData(16, seed: 3),
            documents: documents(40, seed: 4),
            masking: MaskedLanguageModeling(specialIDs: [0, 1, 2, 3], maskID: 4, vocabularySize: 24), paddingID: 0,
            baseOptimizer: Adam(learningRate: 3e-3), metaOptimizer: Adam(learningRate: 1e-3),
            batchSize: 8, metaBatchSize: 8, auxiliaryBatchSize: 8, auxiliaryWeight: 0.5, seed: 5,
            taskLogits: { tokens, context in classifier(tokens, context) },
            hiddenStates: { ids, mask, context in encoder(ids, mask: mask, context) })
        program.uniformWeights = uniformWeights
        let engine = Engine(program: program, configuration: .init(method: method, unroll: 2, seed: 6))
        return (engine, program)
    }

    static func state(_ program: AuxiliaryTokenReweightingProgram) -> [[Float]] {
        program.base.parameters.map(\.tensor.scalars) + program.meta.parameters.map(\.tensor.scalars)
    }

    @Test func thetaHoldsTheModelAndHeadOnceAndWeightsStartAtOne() throws {
        let (engine, program) = Self.makeEngine()
        let keys = program.base.parameters.map(\.key)
        #expect(keys.contains("bert.embeddings.word_embeddings.weight") && keys.contains("cls.predictions.bias"))
        #expect(keys.contains("classifier.weight") && keys == keys.sorted() && Set(keys).count == keys.count)
        #expect(program.base.parameters.filter { $0.tensor === program.head.wordEmbeddings }.count == 1)
        try engine.run(steps: 1)  // no meta step yet (unroll 2)
        let recorded = try #require(program.lastTokenWeights)
        #expect(!recorded.weights.isEmpty && recorded.weights.allSatisfy { $0 == 1 }, "every weight starts at exactly 1")
        #expect(recorded.losses.allSatisfy { $0.isFinite && $0 > 0 } && recorded.documents.count == recorded.weights.count)
        #expect(recorded.documents.allSatisfy { $0 >= 0 && $0 < 40 })
        let batch = program.auxiliaryBatch(documents: [0, 1, 2])
        #expect(program.tokenWeights(batch).allSatisfy { $0 == 1 })
        #expect(batch.targets.allSatisfy { batch.attentionMask[$0.row][$0.position] == 1 })
    }

    @Test func samaMovesTheTokenWeights() throws {
        let (engine, program) = Self.makeEngine()
        var losses: [Float] = []
        engine.observe { event in if case let .baseStep(_, loss, _) = event { losses.append(loss) } }
        try engine.run(steps: 12)
        #expect(engine.metaStep == 6)
        #expect(losses.count == 12 && losses.allSatisfy(\.isFinite), "base losses \(losses)")
        let weights = try #require(program.lastTokenWeights).weights
        #expect(weights.allSatisfy { $0.isFinite && $0 > 0 && $0 < 2 })
        #expect(weights.contains { abs($0 - 1) > 1e-4 }, "weights moved off 1: \(weights)")
        let means = try #require(program.lastTokenWeights).meanPerDocument()
        #expect(!means.isEmpty && means.values.allSatisfy { $0 > 0 && $0 < 2 })
        #expect(program.accuracy(on: program.metaTask) >= 0)
    }

    @Test func fixedWeightsStayOneAndTheWeightNetIsUnused() throws {
        let (engine, program) = Self.makeEngine(uniformWeights: true, method: .finetune)
        let before = program.meta.parameters.map(\.tensor.scalars)
        try engine.run(steps: 4)
        #expect(program.lastTokenWeights?.weights.allSatisfy { $0 == 1 } == true)
        #expect(program.meta.parameters.map(\.tensor.scalars) == before)
        // The auxiliary factor scales the MLM term: a = 0 leaves the task loss alone.
        let batch = program.nextBaseBatch()
        let context = ForwardContext.evaluation()
        let full = withoutGrad { program.baseLoss(batch, context: context).item }
        program.auxiliaryWeight = 0
        let taskOnly = withoutGrad { program.baseLoss(batch, context: context).item }
        program.auxiliaryWeight = 1
        let auxiliary = try #require(batch.auxiliary)
        let mlm = withoutGrad { program.tokenLosses(auxiliary, context: context).mean().item }
        #expect(abs(full - (taskOnly + 0.5 * mlm)) < 1e-4 * max(1, abs(full)), "\(full) vs \(taskOnly) + 0.5·\(mlm)")
    }

    @Test func resumedRunContinuesExactly() throws {
        let (straight, straightProgram) = Self.makeEngine()
        try straight.run(steps: 8)
        let (first, _) = Self.makeEngine()
        try first.run(steps: 4)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("auxiliary-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try first.saveCheckpoint(to: file)
        let (resumed, resumedProgram) = Self.makeEngine(seed: 99)  // other initial values: the checkpoint must restore all
        try resumed.loadCheckpoint(from: file)
        try resumed.run(steps: 8)
        #expect(Self.state(resumedProgram) == Self.state(straightProgram), "θ or λ differ after resuming")
        #expect(resumedProgram.lastTokenWeights == straightProgram.lastTokenWeights, "the same masks and weights")
    }
}
