import Foundation
import MetaLearning
import NeuralNetworks
import Tensors
import Testing

/// `ModelAverage`: a real exponential moving average of every tensor (parameters and BatchNorm statistics),
/// and `PredictionDisagreement.kl` against values computed by hand.
@Suite struct ModelAverageTests {
    /// With the live model held at c, k updates from a start s₀ leave c + decayᵏ·(s₀ − c) in every entry.
    @Test func averageFollowsTheClosedForm() throws {
        var rng = RandomGenerator(seed: 1)
        let live = SmallCNN(channels: (2, 3), rng: &rng)
        var other = RandomGenerator(seed: 2)
        let shadow = SmallCNN(channels: (2, 3), rng: &other)
        let average = ModelAverage(of: live, into: shadow, decay: 0.9)
        let start = live.namedTensors().map { $0.tensor.scalars }
        #expect(shadow.namedTensors().map { $0.tensor.scalars } == start, "the average starts at the live model")
        for (_, t) in live.namedTensors() { t.assign(Tensor(shape: t.shape, storage: [Float](repeating: 0.5, count: t.count))) }
        for _ in 0..<7 { average.update() }
        let factor = Float(pow(0.9, 7.0))
        for ((key, t), s0) in zip(shadow.namedTensors(), start) {
            let expected = s0.map { 0.5 + factor * ($0 - 0.5) }
            let error = zip(t.scalars, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(error < 1e-5, "\(key): max error \(error)")
        }
        #expect(average.updates == 7)
        #expect(shadow.namedTensors().contains { $0.key.hasSuffix("running_mean") }, "buffers are averaged too")
    }

    @Test func stateRoundTripsAndRejectsAMissingKey() throws {
        var rng = RandomGenerator(seed: 3)
        let live = MLP(widths: [4, 3, 2], rng: &rng), shadow = MLP(widths: [4, 3, 2], rng: &rng)
        let average = ModelAverage(of: live, into: shadow, decay: 0.5)
        let saved = average.stateTensors(prefix: "ema.")
        for (_, t) in live.namedTensors() { t.assign(Tensor.zeros(t.shape)) }
        average.update()
        try average.restore(saved, prefix: "ema.")
        #expect(shadow.namedTensors().map { "ema." + $0.key }.allSatisfy { saved[$0]?.scalars != nil })
        #expect(zip(shadow.namedTensors(), saved.keys.sorted()).allSatisfy { $0.0.tensor.scalars == saved[$0.1]!.scalars })
        #expect(throws: ProgramCheckpointError.self) { try average.restore([:], prefix: "ema.") }
    }

    /// p_avg = (0.5, 0.5), p_live = softmax(log 3, 0) = (0.75, 0.25): KL = 0.5·ln(0.5/0.75) + 0.5·ln(0.5/0.25).
    @Test func disagreementIsTheKLDivergence() {
        let live = Tensor(shape: [2, 2], storage: [Float(log(3.0)), 0, 1, 2])
        let average = Tensor(shape: [2, 2], storage: [0, 0, 1, 2])
        let u = PredictionDisagreement.kl(liveLogits: live, averageLogits: average).scalars
        let expected = 0.5 * log(0.5 / 0.75) + 0.5 * log(0.5 / 0.25)
        #expect(abs(Double(u[0]) - expected) < 1e-6, "\(u[0]) vs \(expected)")
        #expect(abs(u[1]) < 1e-7, "identical predictions disagree by 0, got \(u[1])")
    }
}
