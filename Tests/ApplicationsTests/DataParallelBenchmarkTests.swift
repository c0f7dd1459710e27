import Distributed
import Foundation
import MetaLearning
import Testing
@testable import Applications

/// `bench ddp --model text-transformer` on ranks on threads: the noisy-label transformer with MWN + MLC on the
/// bundled reviews, sharded over 2 ranks, against one process.
@Suite struct DataParallelBenchmarkTests {
    static func configuration(_ method: HypergradientMethod) -> DataParallelBenchmark.Configuration {
        var c = DataParallelBenchmark.Configuration(method: method)
        c.model = .textTransformer
        c.text.archive = bundledDataset("rt-sentiment-weak.tar.gz")
        c.text.layers = 1; c.text.width = 16; c.text.heads = 2; c.text.intermediate = 32
        c.text.maxLength = 16; c.text.vocabularySize = 500
        c.unroll = 2; c.steps = 4; c.warmupSteps = 1
        c.batchSize = 16; c.metaBatchSize = 16
        return c
    }

    /// DARTS (exact under sharding, unlike SAMA with Adam on sparse embedding rows: see `bench ddp --check`).
    @Test func twoRanksMatchOneProcess() throws {
        let c = Self.configuration(.darts())
        let one = try DataParallelBenchmark.run(c, communicator: SingleProcessCommunicator())
        let two = try InProcessGroup.run(size: 2) { try DataParallelBenchmark.run(c, communicator: $0) }
        #expect(one.model == "text-transformer" && one.architecture.hasPrefix("transformer L1-H16-h2-I32-T16-V500"))
        #expect(one.architecture.hasSuffix("+MWN+MLC") && one.hidden.isEmpty && one.parameters > 0)
        #expect(two.allSatisfy { $0.checksum == two[0].checksum && $0.ranks == 2 })
        #expect(one.lambda.count == two[0].lambda.count && !one.lambda.isEmpty)
        let difference = zip(one.lambda, two[0].lambda).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-4, "max |Δλ| \(difference)")
        #expect(abs(one.thetaNorm - two[0].thetaNorm) / one.thetaNorm < 1e-5)
        #expect(two[0].bytesPerStep >= Double(4 * one.parameters))  // the gradient on every step, λ on meta steps
        #expect(one.bytesPerStep == 0 && one.allReduceMilliseconds == 0)
    }

    /// Finetune builds no meta nets (λ is empty), as the noisy-label application does.
    @Test func finetuneHasNoMetaParameters() throws {
        let result = try DataParallelBenchmark.run(Self.configuration(.finetune), communicator: SingleProcessCommunicator())
        #expect(result.lambda.isEmpty && result.architecture == "transformer L1-H16-h2-I32-T16-V500")
    }

    @Test func errorsNameTheSetting() throws {
        var c = Self.configuration(.finetune)
        c.text.heads = 3
        #expect(throws: DataParallelBenchmarkError.headsDoNotDivideWidth(width: 16, heads: 3)) {
            try DataParallelBenchmark.run(c, communicator: SingleProcessCommunicator())
        }
        let uneven = { var c = Self.configuration(.finetune); c.batchSize = 15; return c }()
        #expect(throws: ShardingError.self) {
            _ = try InProcessGroup.run(size: 2) { try DataParallelBenchmark.run(uneven, communicator: $0) }
        }
    }
}
