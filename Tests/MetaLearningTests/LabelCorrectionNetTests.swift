import Foundation
import Testing
import NeuralNetworks
import Tensors
import WinnowTestSupport
@testable import MetaLearning

/// MLC (docs/ALGORITHMS.md §6): distributions out, features detached, the gate's mixture, derivatives.
@Suite struct LabelCorrectionNetTests {
    @Test func outputsDistributionsAndDetachesFeatures() {
        var rng = RandomGenerator(seed: 1)
        let net = LabelCorrectionNet(featureWidth: 5, classes: 3, embeddingWidth: 4, hidden: 6, gated: false, rng: &rng)
        let features = randomTensor([4, 5], seed: 2)
        features.requiresGrad = true
        let weak = Tensor(shape: [4, 3], storage: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0])
        let corrected = net(features: features, weakLabels: weak)
        for row in 0..<4 {
            let sum = corrected.scalars[(row * 3)..<(row * 3 + 3)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-5)
        }
        let gradients = Autodiff.gradients(of: corrected.pick([0, 1, 2, 0]).sum(), wrt: [features] + net.parameters())
        #expect(gradients[0].scalars.allSatisfy { $0 == 0 }, "the feature input must be detached")
        #expect(gradients.dropFirst().contains { g in g.scalars.contains { $0 != 0 } })
        #expect(
            net.namedParameters().map(\.key) == [
                "label_embedding", "net.layers.0.bias", "net.layers.0.weight",
                "net.layers.1.bias", "net.layers.1.weight", "net.layers.2.bias", "net.layers.2.weight",
            ])
    }

    @Test func gateMixesTowardsTheWeakLabel() {
        var rng = RandomGenerator(seed: 3)
        let net = LabelCorrectionNet(featureWidth: 2, classes: 2, embeddingWidth: 3, hidden: 4, gated: true, gateLogit: 2, rng: &rng)
        let features = randomTensor([3, 2], seed: 4)
        let weak = Tensor(shape: [3, 2], storage: [1, 0, 0, 1, 0.5, 0.5])
        let a = 1 / (1 + Float(exp(-2.0)))
        #expect(abs(net.gateValue! - a) < 1e-6)
        let gated = net(features: features, weakLabels: weak).scalars
        net.gate!.assign([-50])
        let ungated = net(features: features, weakLabels: weak).scalars
        for i in 0..<6 { #expect(abs(gated[i] - ((1 - a) * ungated[i] + a * weak.scalars[i])) < 1e-5) }
    }

    @Test func derivatives() {
        var rng = RandomGenerator(seed: 5)
        let net = LabelCorrectionNet(featureWidth: 3, classes: 3, embeddingWidth: 2, hidden: 4, gated: true, gateLogit: 0.3, rng: &rng)
        let features = randomTensor([4, 3], seed: 6)
        let weak = Tensor(shape: [4, 3], storage: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0])
        expectDerivatives(net.parameters()) { net(features: features, weakLabels: weak) }
    }
}
