import Testing
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// `MetaBenchmark.targetChecks`: the engine issue's speed and memory targets read off a `bench meta` grid.
@Suite struct MetaBenchmarkTargetTests {
    func row(
        _ method: String, unroll: Int = 1, threads: Int = 1, samples: Double, step: Double? = nil, mib: Double,
        fwd: Double = 10, fwdBwd: Double = 30
    ) -> MetaBenchmark.Result {
        MetaBenchmark.Result(
            method: method, hidden: [2048, 2048], parameters: 5_824_522, unroll: unroll, blasThreads: threads, steps: 120,
            metaGradientBlockElements: 1 << 18,
            baseSamplesPerSecond: samples, metaStepMilliseconds: step, forwardMilliseconds: fwd,
            forwardBackwardMilliseconds: fwdBwd, peakResidentMiB: 200, trainingMiB: mib,
            testAccuracy: nil, cleanWeight: nil, corruptedWeight: nil)
    }

    @Test func ratiosAndVerdicts() {
        let rows = [
            row("finetune", samples: 3000, mib: 74),
            row("sama", samples: 1000, step: 57, mib: 75),  // passes 30 + 2·10 = 50: +14%
            row("neumann", samples: 500, step: 200, mib: 170),  // passes 6·30 = 180: +11%
            row("cg", samples: 620, step: 150, mib: 140),
            row("sama-na", samples: 1000, step: 70, mib: 75),
            row("finetune", unroll: 10, samples: 3000, mib: 74),
            row("sama", unroll: 10, samples: 2600, step: 57, mib: 75),
        ]
        let checks = MetaBenchmark.targetChecks(rows)
        func verdict(_ target: String) -> Bool? { checks.first { $0.target == target }?.met }
        #expect(verdict("SAMA ≥ 1.7× neumann throughput") == true)  // 2.00×
        #expect(verdict("SAMA ≥ 1.7× cg throughput") == false)  // 1.61×
        #expect(verdict("SAMA ≤ 0.5× neumann memory") == true)  // 0.44×
        #expect(verdict("SAMA ≤ 0.5× cg memory") == false)  // 0.54×
        #expect(verdict("SAMA at unroll 10 ≥ 0.9× finetune throughput") == false)  // 0.87×
        #expect(verdict("sama step within 15% of its passes") == true)
        #expect(verdict("neumann step within 15% of its passes") == true)
        #expect(verdict("cg step within 15% of its passes") == true)  // faster than its passes: −17%
        #expect(verdict("sama-na step within 15% of its passes") == false)  // 70 vs 50: +40%
        #expect(checks.first { $0.target == "SAMA ≥ 1.7× neumann throughput" }?.measured == "1000 / 500 samples/s = 2.00×")
        #expect(checks.first { $0.target == "sama step within 15% of its passes" }?.measured == "57 vs 50 ms = +14%")
        #expect(!checks.contains { $0.target.hasPrefix("finetune") }, "finetune has no meta step")
    }

    @Test func frozenInputsAddAForwardAndIterationsAddProducts() {
        let sama = row("sama", samples: 1000, step: 57, mib: 75)
        #expect(MetaBenchmark.passMilliseconds(sama) == 50)
        #expect(MetaBenchmark.passMilliseconds(sama, freezeMetaInputs: true) == 60)
        #expect(MetaBenchmark.passMilliseconds(row("cg", samples: 1, mib: 1), implicitIterations: 3) == Double(300))
        #expect(MetaBenchmark.passMilliseconds(row("finetune", samples: 1, mib: 1)) == nil)
    }

    @Test func configurationsWithoutTheComparedMethodsAreSkipped() {
        #expect(MetaBenchmark.targetChecks([row("sama", samples: 1000, mib: 75)]).isEmpty)
    }
}
