import Foundation
import Testing
@testable import Optimizers
import Tensors

/// Trajectories produced by `Tests/OptimizersTests/reference_optimizers.py` (float64 NumPy, PyTorch's
/// documented algorithms): parameters after each of 5 steps from θ0 = [0.5, -1.2, 2, 0.01].
private let reference: [String: [[Float]]] = [
    "sgd": [
        [0.4, -1.24012482, 2.17137775, 0.191483076], [0.323515781, -1.1777028, 2.3688737, 0.219521208],
        [0.306519067, -1.04209198, 2.49960243, 0.0809276237], [0.357003677, -0.897072249, 2.50208016, -0.159114948],
        [0.451225912, -0.810848657, 2.37514159, -0.387710735],
    ],
    "sgdMomentumDecay": [
        [0.3995, -1.23892482, 2.16937775, 0.191473076], [0.232166281, -1.21029622, 2.5171443, 0.382645503],
        [0.0643370538, -1.04770935, 2.95834578, 0.415724458], [-0.0362889774, -0.755313734, 3.35494649, 0.205037221],
        [-0.0325938825, -0.405178773, 3.58159362, -0.213382116],
    ],
    "sgdNesterov": [
        [0.30905, -1.27395717, 2.32181773, 0.354798844], [0.0817377894, -1.18446391, 2.82984456, 0.554390369],
        [-0.0861783172, -0.901335316, 3.35441987, 0.444726589], [-0.125847708, -0.492385319, 3.70976294, 0.0143364982],
        [-0.0278025135, -0.0908989222, 3.78212888, -0.59093525],
    ],
    "adam": [
        [0.49, -1.21, 2.01, 0.0199999999], [0.480156478, -1.20736128, 2.02001185, 0.0277586683],
        [0.47176056, -1.20077779, 2.02979139, 0.0286933788], [0.46751899, -1.19286861, 2.03785122, 0.0250251337],
        [0.467667793, -1.18462011, 2.04192303, 0.0193784621],
    ],
    "adamL2": [
        [0.49, -1.21, 2.01, 0.0199999999], [0.48014486, -1.20540241, 2.02000996, 0.0277523696],
        [0.471592316, -1.19809286, 2.02973873, 0.0286718601], [0.466833036, -1.18975024, 2.03728824, 0.0249929116],
        [0.466341299, -1.18112244, 2.04012854, 0.0193383595],
    ],
    "adamW": [
        [0.48950001, -1.20879998, 2.00799999, 0.0199899945], [0.479154601, -1.2049577, 2.01599707, 0.0277644377],
        [0.470230558, -1.19721328, 2.02377426, 0.0286736893], [0.46548815, -1.18816762, 2.02986085, 0.0249916421],
        [0.465171737, -1.17877343, 2.03192819, 0.0193517369],
    ],
]

private func referenceGradient(_ t: Int) -> Tensor {
    Tensor((0..<4).map { i in Float(Foundation.cos(1.3 * Double(i) + 0.7 * Double(t)) * (1 + 0.5 * Double(i))) })
}

private func makeOptimizer(_ name: String) -> any UpdateDerivative {
    switch name {
    case "sgd": SGD(learningRate: 0.1)
    case "sgdMomentumDecay": SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
    case "sgdNesterov": SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)
    case "adam": Adam(learningRate: 0.01)
    case "adamL2": Adam(learningRate: 0.01, weightDecay: 0.1)
    case "adamW": Adam.adamW(learningRate: 0.01, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.1)
    default: fatalError("unknown optimizer case \(name)")
    }
}

@Suite struct OptimizerReferenceTests {
    @Test(arguments: ["sgd", "sgdMomentumDecay", "sgdNesterov", "adam", "adamL2", "adamW"])
    func stepsMatchReferenceScript(_ name: String) throws {
        let expected = try #require(reference[name])
        let optimizer = makeOptimizer(name)
        let theta = Tensor([0.5, -1.2, 2.0, 0.01], requiresGrad: true)
        for (t, row) in expected.enumerated() {
            optimizer.step([("theta", theta)], gradients: [referenceGradient(t)])
            for (got, want) in zip(theta.scalars, row) {
                #expect(abs(got - want) <= 2e-6 + 2e-5 * abs(want), "\(name) step \(t + 1): \(theta.scalars) vs \(row)")
            }
        }
    }

    /// ∂u/∂g against a central difference of the optimizer's own step with respect to the last gradient.
    @Test(arguments: ["sgd", "sgdMomentumDecay", "sgdNesterov", "adam", "adamL2", "adamW"])
    func updateDerivativeMatchesFiniteDifference(_ name: String) throws {
        let steps = 4
        // θ after `steps` steps where the last gradient is perturbed by δ, computed in a fresh optimizer.
        func finalTheta(lastGradientOffset delta: Float) -> (theta: [Float], derivative: [Float]) {
            let optimizer = makeOptimizer(name)
            let theta = Tensor([0.5, -1.2, 2.0, 0.01], requiresGrad: true)
            for t in 0..<steps {
                let g = referenceGradient(t)
                optimizer.step([("theta", theta)], gradients: [t == steps - 1 ? g + delta : g])
            }
            return (theta.scalars, optimizer.updateDerivative([("theta", theta)])[0].scalars)
        }
        let h: Float = 1e-3
        let plus = finalTheta(lastGradientOffset: h).theta, minus = finalTheta(lastGradientOffset: -h).theta
        let analytic = finalTheta(lastGradientOffset: 0).derivative
        for i in 0..<4 {
            // u = θ_before − θ_after, so ∂u/∂g = −∂θ_after/∂g (the perturbation moves every entry at once, and
            // the update is elementwise, so the difference isolates the diagonal).
            let numeric = -(plus[i] - minus[i]) / (2 * h)
            #expect(
                abs(numeric - analytic[i]) <= 1e-3 * max(abs(analytic[i]), 1e-3) + 2e-4,
                "\(name) entry \(i): analytic \(analytic[i]) numeric \(numeric)")
        }
        #expect(analytic.allSatisfy { $0 > 0 })
    }

    @Test func stateRoundTripContinuesIdentically() throws {
        for name in ["sgdNesterov", "adamW"] {
            let a = makeOptimizer(name), thetaA = Tensor([0.5, -1.2, 2.0, 0.01], requiresGrad: true)
            for t in 0..<3 { a.step([("theta", thetaA)], gradients: [referenceGradient(t)]) }
            let b = makeOptimizer(name), thetaB = thetaA.copy()
            try b.loadState(a.stateDictionary(), parameters: [("theta", thetaB)])
            a.step([("theta", thetaA)], gradients: [referenceGradient(3)])
            b.step([("theta", thetaB)], gradients: [referenceGradient(3)])
            #expect(thetaA.scalars == thetaB.scalars, "\(name)")
            #expect(a.updateDerivative([("theta", thetaA)])[0].scalars == b.updateDerivative([("theta", thetaB)])[0].scalars)
        }
        let c = makeOptimizer("adam")
        #expect(throws: OptimizerError.missingState("__step")) { try c.loadState([:], parameters: []) }
    }

    @Test func clippingAndSchedules() {
        let g1 = Tensor([3, 0]), g2 = Tensor([0, 4])
        let norm = clipGradients([g1, g2], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(globalNorm([g1, g2]) - 1) < 1e-5)
        let small = Tensor([0.1])
        clipGradients([small], maxNorm: 1)
        #expect(small.scalars == [0.1])
        let cosine = LearningRateSchedule.cosine(totalSteps: 110, warmupSteps: 10)
        #expect(abs(cosine.factor(at: 0) - 0.1) < 1e-6 && abs(cosine.factor(at: 9) - 1) < 1e-6)
        #expect(abs(cosine.factor(at: 60) - 0.5) < 1e-5 && cosine.factor(at: 110) < 1e-6)
        let linear = LearningRateSchedule.linear(totalSteps: 100, warmupSteps: 6)
        #expect(abs(linear.factor(at: 2) - 0.5) < 1e-6 && abs(linear.factor(at: 53) - 0.5) < 1e-6 && linear.factor(at: 100) == 0)
        #expect(LearningRateSchedule.constant.factor(at: 1234) == 1)
        let steps = LearningRateSchedule.multiStep(milestones: [10, 20], gamma: 0.1)
        #expect(steps.factor(at: 9) == 1 && abs(steps.factor(at: 10) - 0.1) < 1e-7 && abs(steps.factor(at: 25) - 0.01) < 1e-8)
    }
}
