import Foundation
import Optimizers
import Testing
@testable import MetaLearning

/// `PhaseClock`: the engine times each phase of its steps; meta phases appear only with a meta-learning method.
@Suite struct PhaseClockTests {
    func engine(_ method: any Hypergradient) -> Engine<BiasedRegression> {
        let problem = BiasedRegression(baseOptimizer: Adam(learningRate: 0.1), metaOptimizer: Adam(learningRate: 0.1))
        return Engine(program: problem, configuration: .init(method: method, unroll: 2))
    }

    @Test func everyPhaseOfAMethodIsTimedAndNoneExceedsTheRun() throws {
        for method: any Hypergradient in [.sama(), .neumann(), .cg(), .darts()] {
            let e = engine(method)
            let start = DispatchTime.now().uptimeNanoseconds
            try e.run(steps: 8)
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            // Only SAMA reads the base optimizer's adaptation.
            let expected = Set(StepPhase.allCases).subtracting(method.method == .sama ? [] : [.adaptation])
            #expect(Set(e.phases.seconds.keys) == expected, "\(method.method)")
            #expect(e.phases.seconds.values.allSatisfy { $0 > 0 }, "\(method.method)")
            #expect(e.phases.seconds.values.reduce(0, +) <= wall, "\(method.method)")
        }
    }

    @Test func aPhaseMeasuredInsideAnotherIsTakenOutOfIt() {
        let clock = PhaseClock()
        func spin(_ seconds: Double) {
            let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
            while DispatchTime.now().uptimeNanoseconds < end {}
        }
        let start = DispatchTime.now().uptimeNanoseconds
        clock.measure(.metaForwardBackward) {
            spin(0.01)
            clock.measure(.adaptation) { spin(0.02) }
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let outer = clock.seconds[.metaForwardBackward] ?? 0, inner = clock.seconds[.adaptation] ?? 0
        // Counted in both, the two would add up to at least the wall time plus the inner 0.02 s.
        #expect(inner >= 0.02 && outer >= 0.01 && outer + inner <= wall, "outer \(outer) s, inner \(inner) s, wall \(wall) s")
    }

    @Test func plainTrainingHasOnlyBasePhases() throws {
        let e = engine(.finetune)
        try e.run(steps: 4)
        #expect(Set(e.phases.seconds.keys) == [.baseForward, .baseBackward, .baseOptimizer])
    }
}
