import Foundation
import Testing
@testable import Benchmarks

/// `MetaBenchmarkFigures`: which rows a `bench meta` grid's charts draw, what the charts hold, and the files written.
@Suite struct MetaBenchmarkFiguresTests {
    func row(
        _ method: String, hidden: Int, parameters: Int, unroll: Int = 1, threads: Int = 1, samples: Double, mib: Double
    )
        -> MetaBenchmark.Result
    {
        MetaBenchmark.Result(
            method: method, hidden: [hidden, hidden], parameters: parameters, unroll: unroll, blasThreads: threads, steps: 120,
            metaGradientBlockElements: 1 << 18, baseSamplesPerSecond: samples, metaStepMilliseconds: nil, forwardMilliseconds: 1,
            forwardBackwardMilliseconds: 3, peakResidentMiB: 200, trainingMiB: mib, testAccuracy: nil, cleanWeight: nil,
            corruptedWeight: nil)
    }

    var grid: [MetaBenchmark.Result] {
        [
            row("sama", hidden: 512, parameters: 669_706, samples: 9000, mib: 20),
            row("neumann", hidden: 512, parameters: 669_706, samples: 4000, mib: 45),
            row("sama", hidden: 256, parameters: 269_322, samples: 20000, mib: 8),
            row("neumann", hidden: 256, parameters: 269_322, samples: 9000, mib: 18),
            row("sama", hidden: 256, parameters: 269_322, threads: 2, samples: 30000, mib: 8),
            row("sama", hidden: 256, parameters: 269_322, unroll: 10, samples: 25000, mib: 8),
        ]
    }

    @Test func onlyTheFirstThreadCountAndUnrollAreDrawn() {
        let drawn = MetaBenchmarkFigures.drawnRows(grid)
        #expect(drawn.count == 4)
        #expect(drawn.allSatisfy { $0.blasThreads == 1 && $0.unroll == 1 })
        #expect(MetaBenchmarkFigures.drawnRows([]).isEmpty)
    }

    @Test func chartsHoldAPointPerMethodAndALinePerMethod() {
        let scatter = MetaBenchmarkFigures.throughputVersusMemory(grid)
        // The largest model's methods.
        #expect(scatter.points.map(\.label) == ["sama", "neumann"])
        #expect(scatter.points.map(\.x) == [20, 45])
        // SAMA uses less memory at a higher throughput: it alone is on the front.
        #expect(scatter.paretoFront().map(\.label) == ["sama"])
        let lines = MetaBenchmarkFigures.memoryVersusParameters(grid)
        #expect(lines.series.map(\.name) == ["sama", "neumann"])
        #expect(lines.series[0].points.map(\.y) == [8, 20])
        #expect(lines.series[1].points.map(\.x) == [0.269322, 0.669706])
    }

    func qualityRow(_ method: String, accuracy: Double, seconds: Double, mib: Double) -> MetaBenchmark.Result {
        var r = row(method, hidden: 512, parameters: 669_706, samples: 5000, mib: mib)
        r.testAccuracy = accuracy
        r.trainingSeconds = seconds
        return r
    }

    var quality: [MetaBenchmark.Result] {
        [
            qualityRow("finetune", accuracy: 0.53, seconds: 10, mib: 5),
            qualityRow("sama", accuracy: 0.76, seconds: 20, mib: 9),
            qualityRow("neumann", accuracy: 0.85, seconds: 60, mib: 30),
            qualityRow("cg", accuracy: 0.72, seconds: 70, mib: 35),
        ]
    }

    @Test func qualityRowsAreDrawnAgainstTimeAndMemoryOnly() {
        #expect(MetaBenchmarkFigures.drawnRows(quality + grid).count == 4)
        #expect(MetaBenchmarkFigures.drawnRows(quality).isEmpty)
        let time = MetaBenchmarkFigures.accuracyVersusTime(grid + quality)
        #expect(time.points.map(\.label) == ["finetune", "sama", "neumann", "cg"])
        #expect(time.points.map(\.y) == [53, 76, 85, 72])
        // CG is slower and less accurate than Neumann: every other method is on the front.
        #expect(time.paretoFront().map(\.label).sorted() == ["finetune", "neumann", "sama"])
        let memory = MetaBenchmarkFigures.accuracyVersusMemory(quality)
        #expect(memory.points.map(\.x) == [5, 9, 30, 35])
        #expect(memory.title.contains("784-512-512-10, 120 base steps, unroll 1"))
    }

    @Test func writesTheRowsAndBothCharts() throws {
        let dir = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try MetaBenchmarkFigures.write(grid, to: dir.path)
        #expect(
            paths.map { URL(fileURLWithPath: $0).lastPathComponent }
                == ["bench-meta.json", "throughput-vs-memory.svg", "memory-vs-parameters.svg"])
        let rows = try JSONDecoder().decode([MetaBenchmark.Result].self, from: Data(contentsOf: URL(fileURLWithPath: paths[0])))
        #expect(rows.count == grid.count)
        let svg = try String(contentsOfFile: paths[2], encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("neumann") && svg.contains("parameters (millions)"))
        #expect(throws: (any Error).self) { try MetaBenchmarkFigures.write(grid, to: dir.appendingPathComponent("missing").path) }
        let withQuality = try MetaBenchmarkFigures.write(grid + quality, to: dir.path)
        #expect(withQuality.count == 5)
        let timeChart = try String(contentsOfFile: withQuality[3], encoding: .utf8)
        #expect(withQuality[3].hasSuffix("accuracy-vs-time.svg") && timeChart.contains("training time (s)"))
        #expect(withQuality[4].hasSuffix("accuracy-vs-memory.svg"))
    }
}
