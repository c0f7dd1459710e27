import Testing
@testable import Benchmarks
import MetaLearning

/// `PhaseBreakdown` turns an engine's phase seconds into milliseconds per step, with the rest as "other".
@Suite struct PhaseBreakdownTests {
    @Test func breakdownSpreadsSecondsOverStepsAndKeepsTheRestAsOther() {
        let ms = PhaseBreakdown.millisecondsPerStep(
            [.baseForward: 0.2, .baseBackward: 0.4], over: 10, totalSeconds: 1.0, waitSeconds: 0.1)
        #expect(abs(ms["base forward"]! - 20) < 1e-9 && abs(ms["base backward"]! - 40) < 1e-9)
        #expect(abs(ms[PhaseBreakdown.communicationWait]! - 10) < 1e-9)
        #expect(abs(ms[PhaseBreakdown.other]! - 30) < 1e-9)
        // Measured phases longer than the total (clock granularity) leave "other" at 0, never negative.
        #expect(PhaseBreakdown.millisecondsPerStep([.baseForward: 2], over: 1, totalSeconds: 1)[PhaseBreakdown.other] == 0)
        let table = PhaseBreakdown.table([(label: "sama", milliseconds: ms)])
        #expect(table.contains("| sama | 20 | 40 | – | – | – | – | – | 10 | 30 | 100 |"))
    }
}
