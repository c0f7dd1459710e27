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
            #expect(Set(e.phases.seconds.keys) == Set(StepPhase.allCases), "\(method.method)")
            #expect(e.phases.seconds.values.allSatisfy { $0 > 0 }, "\(method.method)")
            #expect(e.phases.seconds.values.reduce(0, +) <= wall, "\(method.method)")
        }
    }

    @Test func plainTrainingHasOnlyBasePhases() throws {
        let e = engine(.finetune)
        try e.run(steps: 4)
        #expect(Set(e.phases.seconds.keys) == [.baseForward, .baseBackward, .baseOptimizer])
    }
}
