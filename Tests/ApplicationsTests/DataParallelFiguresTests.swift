import Foundation
import Testing
@testable import Benchmarks

/// `DataParallelFigures`: speed-up over the matching one-rank row, the speed-up vs ranks chart, and the files written.
@Suite struct DataParallelFiguresTests {
    func row(_ method: String, unroll: Int = 1, ranks: Int, samples: Double) -> DataParallelBenchmark.Result {
        DataParallelBenchmark.Result(
            method: method, model: "mlp", architecture: "2048-2048", hidden: [2048, 2048], parameters: 5_824_522,
            unroll: unroll, ranks: ranks, batchSize: 256, metaBatchSize: 100, blasThreads: 1, progressDuringBackward: true,
            samplesPerSecond: samples, waitMillisecondsPerStep: 1, skewWaitMillisecondsPerStep: nil,
            dataWaitMillisecondsPerStep: nil, sparseRowShare: nil, metaWaitMillisecondsPerStep: 0, launchMillisecondsPerStep: 0,
            allReduceMilliseconds: 2, bytesPerStep: 23e6, checksum: "0", lambda: [], thetaNorm: 1)
    }

    var rows: [DataParallelBenchmark.Result] {
        [
            row("finetune", ranks: 1, samples: 1000), row("finetune", ranks: 2, samples: 1800), row("finetune", ranks: 4, samples: 1600),
            row("sama", unroll: 10, ranks: 1, samples: 500), row("sama", unroll: 10, ranks: 2, samples: 850),
            row("sama", unroll: 1, ranks: 2, samples: 300),
        ]
    }

    @Test func speedUpIsOverTheSameConfigurationsOneRankRow() throws {
        let all = rows
        #expect(DataParallelFigures.speedUp(all[1], among: all) == 1.8)
        #expect(DataParallelFigures.speedUp(all[0], among: all) == 1)
        #expect(DataParallelFigures.speedUp(all[4], among: all) == 1.7)
        // SAMA at unroll 1 has no one-rank row of its own: no speed-up rather than one against unroll 10.
        #expect(DataParallelFigures.speedUp(all[5], among: all) == nil)
    }

    @Test func chartHasALinePerMethodAndUnrollAndTheIdeal() {
        let chart = DataParallelFigures.speedUpVersusRanks(rows)
        #expect(chart.series.map(\.name) == ["finetune", "sama unroll 10", "sama unroll 1", "ideal"])
        #expect(chart.series[0].points.map(\.x) == [1, 2, 4])
        #expect(chart.series[0].points.map(\.y) == [1, 1.8, 1.6])
        #expect(chart.series[2].points.isEmpty)
        #expect(chart.series[3].points.map(\.y) == [1, 2, 4])
        #expect(chart.title.contains("mlp 2048-2048, global batch 256"))
    }

    @Test func writesTheRowsAndTheChart() throws {
        let dir = try NoisyLabelApplicationTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = try DataParallelFigures.write(rows, to: dir.path)
        #expect(paths.map { URL(fileURLWithPath: $0).lastPathComponent } == ["bench-ddp.json", "speedup-vs-ranks.svg"])
        let decoded = try JSONDecoder().decode(
            [DataParallelBenchmark.Result].self, from: Data(contentsOf: URL(fileURLWithPath: paths[0])))
        #expect(decoded.count == 6)
        let svg = try String(contentsOfFile: paths[1], encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("speed-up over one rank") && svg.contains("ideal"))
        #expect(throws: (any Error).self) { try DataParallelFigures.write(rows, to: dir.appendingPathComponent("missing").path) }
    }
}
