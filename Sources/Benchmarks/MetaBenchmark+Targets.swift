import Foundation
import NoisyLabels
import Runtime

extension MetaBenchmark {
    /// One speed or memory target of the engine issue, checked on one configuration of a `bench meta` grid.
    public struct TargetCheck: Sendable, Equatable {
        /// The target, e.g. "SAMA ≥ 1.7× Neumann throughput".
        public var target: String
        /// Model, unroll and BLAS threads it was measured on.
        public var configuration: String
        /// The figures and their ratio.
        public var measured: String
        public var met: Bool
    }

    /// The passes a method's meta step needs, in milliseconds at the measured speed of one forward and one
    /// forward+backward of the base model: the meta forward+backward plus, for the finite-difference methods,
    /// two base forwards (three with frozen meta inputs); for Neumann and CG, the base forward+backward that
    /// records the graph, each Hessian-vector product and the mixed product as two forward+backwards each.
    /// Nil for finetune.
    public static func passMilliseconds(_ r: Result, freezeMetaInputs: Bool = false, implicitIterations: Int = 1) -> Double? {
        switch r.method {
        case "sama", "sama-na", "darts":
            return r.forwardBackwardMilliseconds + Double(freezeMetaInputs ? 3 : 2) * r.forwardMilliseconds
        case "neumann", "cg":
            return Double(2 + 2 * implicitIterations + 2) * r.forwardBackwardMilliseconds
        default:
            return nil
        }
    }

    /// Checks the targets on every configuration of `rows` that has the methods a target compares:
    /// SAMA ≥ 1.7× the throughput of Neumann and CG at ≤ 0.5× their memory (memory added by training; unroll 1),
    /// SAMA at unroll 10 ≥ 0.9× finetune's throughput, and every meta step within 15% of its passes.
    public static func targetChecks(_ rows: [Result], freezeMetaInputs: Bool = false, implicitIterations: Int = 1) -> [TargetCheck] {
        func describe(_ r: Result) -> String {
            "\(r.hidden.map(String.init).joined(separator: "-")), unroll \(r.unroll), \(r.blasThreads) "
                + "thread\(r.blasThreads == 1 ? "" : "s")"
        }
        func find(_ method: String, like r: Result, unroll: Int? = nil) -> Result? {
            rows.first {
                $0.method == method && $0.hidden == r.hidden && $0.blasThreads == r.blasThreads && $0.unroll == (unroll ?? r.unroll)
            }
        }
        func ratio(_ x: Double) -> String { String(format: "%.2f×", x) }
        var checks: [TargetCheck] = []
        for sama in rows where sama.method == "sama" && sama.unroll == 1 {
            for baseline in ["neumann", "cg"] {
                guard let other = find(baseline, like: sama), other.baseSamplesPerSecond > 0, other.trainingMiB > 0 else { continue }
                let speed = sama.baseSamplesPerSecond / other.baseSamplesPerSecond
                checks.append(
                    TargetCheck(
                        target: "SAMA ≥ 1.7× \(baseline) throughput", configuration: describe(sama),
                        measured:
                            "\(benchmarkFigure(sama.baseSamplesPerSecond)) / \(benchmarkFigure(other.baseSamplesPerSecond)) samples/s = "
                                + "\(ratio(speed))",
                        met: speed >= 1.7))
                let memory = sama.trainingMiB / other.trainingMiB
                checks.append(
                    TargetCheck(
                        target: "SAMA ≤ 0.5× \(baseline) memory", configuration: describe(sama),
                        measured:
                            "\(benchmarkFigure(sama.trainingMiB)) / \(benchmarkFigure(other.trainingMiB)) MiB added = \(ratio(memory))",
                        met: memory <= 0.5))
            }
        }
        for sama in rows where sama.method == "sama" && sama.unroll == 10 {
            guard let finetune = find("finetune", like: sama), finetune.baseSamplesPerSecond > 0 else { continue }
            let speed = sama.baseSamplesPerSecond / finetune.baseSamplesPerSecond
            checks.append(
                TargetCheck(
                    target: "SAMA at unroll 10 ≥ 0.9× finetune throughput", configuration: describe(sama),
                    measured:
                        "\(benchmarkFigure(sama.baseSamplesPerSecond)) / \(benchmarkFigure(finetune.baseSamplesPerSecond)) samples/s = "
                            + "\(ratio(speed))",
                    met: speed >= 0.9))
        }
        for r in rows where r.unroll == 1 {
            guard let step = r.metaStepMilliseconds,
                let passes = passMilliseconds(r, freezeMetaInputs: freezeMetaInputs, implicitIterations: implicitIterations), passes > 0
            else { continue }
            let excess = step / passes - 1
            checks.append(
                TargetCheck(
                    target: "\(r.method) step within 15% of its passes", configuration: describe(r),
                    measured:
                        "\(benchmarkFigure(step)) vs \(benchmarkFigure(passes)) ms = "
                            + "\(excess >= 0 ? "+" : "")\(String(format: "%.0f", 100 * excess))%",
                    met: excess <= 0.15))
        }
        return checks
    }
}
