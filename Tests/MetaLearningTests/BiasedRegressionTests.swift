import Testing
import NeuralNetworks
import Optimizers
import Tensors
@testable import MetaLearning

/// End-to-end oracle for every hypergradient method (docs/ALGORITHMS.md §5): β = 0.15, 100 meta steps, the
/// hypergradient compared with the exact g_λ along the trajectory, and ‖λ_t − λ*‖ at the end.
@Suite struct BiasedRegressionTests {
    struct Outcome {
        var meanCosine: Double, minCosine: Double
        var initialDistance: Double, finalDistance: Double
    }

    /// Runs 100 meta steps (unroll 50 SGD base steps each, so θ ≈ w*(λ) when the meta step fires).
    func run(_ method: any Hypergradient, metaSteps: Int = 100) throws -> Outcome {
        let problem = BiasedRegression(
            baseOptimizer: SGD(learningRate: 0.2), metaOptimizer: Adam(learningRate: 0.5),
            metaSchedule: .cosine(totalSteps: metaSteps))
        let unroll = 50
        let engine = Engine(program: problem, configuration: .init(method: method, unroll: unroll))
        let lambdaStar = problem.optimalLambda()
        let initial = LinearAlgebra.distance(problem.lambda.scalars.map(Double.init), lambdaStar)
        var cosines: [Double] = []
        for _ in 0..<metaSteps {
            for _ in 0..<(unroll - 1) { try engine.step() }
            // The exact g_λ at the λ the coming meta step sees; that step's hypergradient is compared with it.
            let exact = problem.exactHypergradient(problem.lambda.scalars.map(Double.init))
            let before = engine.metaStep
            try engine.step()
            if method.learnsMeta, let result = engine.lastResult {
                #expect(engine.metaStep == before + 1)
                cosines.append(LinearAlgebra.cosine(result.hypergradient.flatMap(\.scalars).map(Double.init), exact))
            }
        }
        let final = LinearAlgebra.distance(problem.lambda.scalars.map(Double.init), lambdaStar)
        return Outcome(
            meanCosine: cosines.isEmpty ? 0 : cosines.reduce(0, +) / Double(cosines.count),
            minCosine: cosines.min() ?? 0, initialDistance: initial, finalDistance: final)
    }

    @Test func everyMethodAgainstTheClosedForm() throws {
        let methods: [(String, any Hypergradient)] = [
            ("cg(8)", ConjugateGradient(iterations: 8)), ("cg(1)", ConjugateGradient()),
            ("neumann(20, 0.3)", Neumann(iterations: 20, alpha: 0.3)),
            ("neumann(1, 1)", Neumann()), ("sama", SAMA()), ("sama-na", SAMANA()), ("darts", DARTS()),
        ]
        var outcomes: [String: Outcome] = [:]
        for (name, method) in methods {
            let o = try run(method)
            outcomes[name] = o
            print(
                "biased regression \(name): cosine mean \(String(format: "%.4f", o.meanCosine)) min "
                    + "\(String(format: "%.4f", o.minCosine)); ‖λ−λ*‖ \(String(format: "%.3f", o.initialDistance)) → "
                        + "\(String(format: "%.4f", o.finalDistance))"
            )
        }
        let cg = outcomes["cg(8)"]!
        #expect(cg.minCosine > 0.999, "CG with d iterations must match the closed form")
        #expect(cg.finalDistance < 0.03 * cg.initialDistance)
        // Measured (seed 3): SAMA cosine mean 0.972, min 0.938; ‖λ−λ*‖ 12.89 → 0.233.
        let sama = outcomes["sama"]!
        #expect(sama.meanCosine > 0.95 && sama.minCosine > 0.9)
        #expect(sama.finalDistance < 0.04 * sama.initialDistance)
        let neumann = outcomes["neumann(20, 0.3)"]!
        #expect(neumann.minCosine > 0.999 && neumann.finalDistance < 0.03 * neumann.initialDistance)
        // Neumann with α·λmax(H) > 2 diverges: the default K = 1, α = 1 is not a universal choice.
        #expect(outcomes["neumann(1, 1)"]!.meanCosine < 0)
        let finetune = try run(.finetune, metaSteps: 3)
        #expect(finetune.finalDistance == finetune.initialDistance)
    }
}
