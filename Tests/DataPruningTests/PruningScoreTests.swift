import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import DataPruning

private func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

/// Known answers of every classical score.
@Suite struct PruningScoreTests {
    // Row 0: logits (0, 0) → p = (½, ½). Row 1: (ln 3, 0) → p = (¾, ¼). Row 2: (ln 3, 0, ln 2) → p = (½, ⅙, ⅓).
    let logits = [
        Tensor(shape: [2, 2], storage: [0, 0, Float(Foundation.log(3.0)), 0]),
        Tensor(shape: [1, 3], storage: [Float(Foundation.log(3.0)), 0, Float(Foundation.log(2.0))]),
    ]

    @Test func el2n() {
        // (½ − 1, ½) → √½; label 1 of (¾, ¼): (¾, −¾) → ¾√2.
        let expected = [(0.5 as Double).squareRoot(), 0.75 * (2 as Double).squareRoot()]
        #expect(close(LogitScores.el2n(logits: logits[0], labels: [0, 1]), expected, 1e-6))
        // label 2 of (½, ⅙, ⅓): (½, ⅙, −⅔) → √(¼ + 1/36 + 4/9) = √(26/36).
        #expect(close(LogitScores.el2n(logits: logits[1], labels: [2]), [(26.0 / 36).squareRoot()], 1e-6))
    }

    @Test func marginAndLeastConfidence() {
        // Stored margin = max other p − p_y: 0 for the tie, ¾ − ¼ = ½ when the label is the less likely class.
        #expect(close(LogitScores.negatedMargin(logits: logits[0], labels: [0, 1]), [0, 0.5]))
        #expect(close(LogitScores.negatedMargin(logits: logits[1], labels: [0]), [-1.0 / 6]))
        #expect(close(LogitScores.negatedMargin(logits: logits[1], labels: [1]), [0.5 - 1.0 / 6]))
        #expect(close(LogitScores.leastConfidence(logits: logits[0], labels: [0, 1]), [0.5, 0.25]))
        #expect(close(LogitScores.leastConfidence(logits: logits[1], labels: [2]), [0.5]))
        #expect(close(LogitScores.logitMargin(logits: logits[1], labels: [2]), [Foundation.log(2.0) - Foundation.log(3.0)], 1e-6))
    }

    /// Four samples over four presentations each, from logits that make each correct (+) or not (−):
    /// 0: + − + − (2 events); 1: never correct; 2: always correct; 3: − + (1 event needs + then −: 0).
    @Test func forgettingAndAUM() {
        var dynamics = TrainingDynamics(count: 5)
        let pattern: [[Bool]] = [[true, false, true, false], [false, false, false, false], [true, true, true, true], [false, true]]
        for step in 0..<4 {
            let samples = pattern.indices.filter { step < pattern[$0].count }
            // Label 0; logits (m, 0) with m = +2 when correct, −1 otherwise: logit margin ±.
            let values: [Float] = samples.flatMap { pattern[$0][step] ? [2, 0] : [-1, 0] }
            dynamics.record(
                indices: samples, logits: Tensor(shape: [samples.count, 2], storage: values),
                labels: samples.map { _ in 0 })
        }
        #expect(dynamics.presentations == [4, 4, 4, 2, 0])
        // Never learned (sample 1) and never presented (sample 4) rank above every count: most presentations + 1.
        #expect(dynamics.forgettingScores() == [2, 5, 0, 0, 5])
        // AUM stored negated: sample 0 margins 2, −1, 2, −1 → mean ½ → −½; sample 3: (−1 + 2)/2 → −½; unseen: 0.
        #expect(close(dynamics.aumScores(), [-0.5, 1, -2, -0.5, 0]))
    }

    @Test func randomIsClassBalancedAndSeeded() {
        let labels = [Int](repeating: 0, count: 10) + [Int](repeating: 1, count: 20) + [Int](repeating: 2, count: 30)
        let ordered = RandomScore.classBalanced(labels: labels, seed: 3)
        #expect(ordered == RandomScore.classBalanced(labels: labels, seed: 3))
        #expect(ordered != RandomScore.classBalanced(labels: labels, seed: 4))
        // Pruning the lowest 30% removes 3, 6 and 9 samples of the three classes.
        let pruned = ordered.indices.sorted { (ordered[$0], $0) < (ordered[$1], $1) }.prefix(18)
        #expect([0, 1, 2].map { c in pruned.filter { labels[$0] == c }.count } == [3, 6, 9])
        // Within a class the scores are (rank + ½)/n: every value once.
        #expect(Set(ordered[0..<10]) == Set((0..<10).map { (Double($0) + 0.5) / 10 }))
    }

    /// Exact GraNd of an MLP from outer products equals a per-sample backward, and a one-layer model's known answer.
    @Test func grandOuterProductsMatchPerSampleBackward() {
        var rng = RandomGenerator(seed: 11)
        let model = MLP(widths: [6, 5, 4, 3], activation: .relu, rng: &rng)
        let x = Tensor.normal([7, 6], using: &rng)
        let labels = [0, 1, 2, 0, 1, 2, 2]
        let fast = GraNd.mlp(model, images: x, labels: labels)
        let slow = GraNd.perSample(model, images: x, labels: labels)
        #expect(close(fast, slow, 1e-4), "\(fast) vs \(slow)")
        #expect(fast.allSatisfy { $0 > 0 })

        // One linear layer: ∇W = (p − y) xᵀ, ∇b = p − y, so the norm is ‖p − y‖·√(‖x‖² + 1).
        let linear = MLP(widths: [3, 2], rng: &rng)
        let input = Tensor(shape: [2, 3], storage: [1, 2, -1, 0.5, 0, 3])
        let z = withoutGrad { linear(input, ForwardContext.evaluation()) }
        let expected = (0..<2).map { row -> Double in
            let p = LogitScores.el2n(logits: z.slice(axis: 0, row..<(row + 1)), labels: [row])[0]
            let xs = input.scalars[(row * 3)..<(row * 3 + 3)].reduce(0.0) { $0 + Double($1) * Double($1) }
            return p * (xs + 1).squareRoot()
        }
        #expect(close(GraNd.mlp(linear, images: input, labels: [0, 1]), expected, 1e-5))
        #expect(close(GraNd.perSample(linear, images: input, labels: [0, 1]), expected, 1e-5))
    }

    /// GraNd of a CNN through `norms` (per-sample backward) against a batch-of-one autodiff gradient per sample.
    @Test func grandOfACNNIsThePerSampleGradient() {
        var rng = RandomGenerator(seed: 5)
        let model = SmallCNN(inChannels: 1, imageSize: 8, channels: (2, 3), classes: 3, rng: &rng)
        let images = Tensor.normal([3, 1, 8, 8], using: &rng)
        let split = ImageSplit(name: "train", images: images, labels: [0, 2, 1], ids: ["a", "b", "c"])
        let norms = GraNd.norms(model, split: split, batchSize: 2)
        for i in 0..<3 {
            let loss = Loss.crossEntropy(model(images.slice(axis: 0, i..<(i + 1)), ForwardContext.evaluation()), labels: [split.labels[i]])
            let gradients = Autodiff.gradients(of: loss.sum(), wrt: model.parameters())
            let norm = gradients.reduce(0.0) { total, g in total + g.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot()
            #expect(abs(norms[i] - norm) < 1e-5 * max(1, norm))
        }
    }
}
