import Distributed
import Foundation
import MetaLearning
import Testing
import WinnowTestSupport
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// `bench ddp --model text-transformer` on ranks on threads: the noisy-label transformer with MWN + MLC on the
/// bundled reviews, sharded over 2 ranks, against one process.
@Suite(.tags(.slow), .slowTier) struct DataParallelBenchmarkTests {
    static func configuration(_ method: MetaMethod) -> DataParallelBenchmark.Configuration {
        var meta = DataParallelBenchmark.defaultMeta
        meta.method = method
        meta.alpha = 0.01
        meta.unroll = 2
        meta.batchSize = 16
        var c = DataParallelBenchmark.Configuration(meta: meta)
        c.model = .textTransformer
        c.text.archive = bundledDataset("rt-sentiment-weak.tar.gz")
        c.text.layers = 1; c.text.width = 16; c.text.heads = 2; c.text.intermediate = 32
        c.text.maxLength = 16; c.text.vocabularySize = 500
        c.steps = 4; c.warmupSteps = 1
        c.batchSize = 16
        return c
    }

    /// DARTS (exact under sharding, unlike SAMA with Adam on sparse embedding rows: see `bench ddp --check`).
    @Test func twoRanksMatchOneProcess() throws {
        let c = Self.configuration(.darts)
        let one = try DataParallelBenchmark.run(c, communicator: SingleProcessCommunicator())
        let two = try InProcessGroup.run(size: 2) { try DataParallelBenchmark.run(c, communicator: $0) }
        #expect(one.model == "text-transformer" && one.architecture.hasPrefix("transformer L1-H16-h2-I32-T16-V500"))
        #expect(one.architecture.hasSuffix("+MWN+MLC") && one.hidden.isEmpty && one.parameters > 0)
        #expect(two.allSatisfy { $0.checksum == two[0].checksum && $0.ranks == 2 })
        #expect(one.lambda.count == two[0].lambda.count && !one.lambda.isEmpty)
        let difference = zip(one.lambda, two[0].lambda).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-4, "max |Δλ| \(difference)")
        #expect(abs(one.thetaNorm - two[0].thetaNorm) / one.thetaNorm < 1e-5)
        #expect(one.bytesPerStep == 0 && one.allReduceMilliseconds == 0)
        #expect(one.skewWaitMillisecondsPerStep == nil && one.sparseRowShare == nil)
        let skew = try #require(two[0].skewWaitMillisecondsPerStep), data = try #require(two[0].dataWaitMillisecondsPerStep)
        #expect(skew >= 0 && data >= 0 && two[0].waitMillisecondsPerStep > 0)  // the split itself: waitsSplitIntoSkewAndData
    }

    /// Embedding tables reduced by the rows the batches touch: the same training, bit for bit, as reducing
    /// them whole, with fewer bytes.
    @Test func sparseEmbeddingReductionEqualsDense() throws {
        let dense = Self.configuration(.darts)
        let sparse = {
            var c = Self.configuration(.darts); c.sparseRowReduction = true; return c
        }()
        let a = try InProcessGroup.run(size: 2) { try DataParallelBenchmark.run(dense, communicator: $0) }
        let b = try InProcessGroup.run(size: 2) { try DataParallelBenchmark.run(sparse, communicator: $0) }
        #expect(a[0].checksum == b[0].checksum && b[1].checksum == b[0].checksum)
        #expect(a[0].lambda == b[0].lambda)
        #expect(a[0].bytesPerStep >= Double(4 * a[0].parameters))  // the whole gradient every step, λ on meta steps
        let share = try #require(b[0].sparseRowShare)
        #expect(share > 0 && share < 0.5, "embedding rows sent: \(share)")
        #expect(b[0].bytesPerStep < a[0].bytesPerStep * 0.8, "sparse \(b[0].bytesPerStep) vs dense \(a[0].bytesPerStep) bytes per step")
        #expect(a[0].sparseRowShare == nil)
    }

    /// Waits split at the slowest rank's end of backward, on one machine's clock.
    @Test func waitsSplitIntoSkewAndData() throws {
        let rounds: [[ReductionRoundTime]] = [
            [ReductionRoundTime(waitStart: 100, waitEnd: 150), ReductionRoundTime(waitStart: 300, waitEnd: 330)],
            [ReductionRoundTime(waitStart: 130, waitEnd: 150), ReductionRoundTime(waitStart: 290, waitEnd: 330)],
        ]
        let split = try InProcessGroup.run(size: 2) { c in try DataParallelBenchmark.splitWaits(rounds[c.rank], communicator: c) }
        // Round 1: latest wait start 130, skew 30 + 0, data 20 + 20. Round 2: latest 300, skew 0 + 10, data 30 + 30.
        let root = try #require(split[0])
        #expect(abs(root.skew - 20e-9) < 1e-15 && abs(root.data - 50e-9) < 1e-15 && abs(root.total - 70e-9) < 1e-15)
        #expect(try DataParallelBenchmark.splitWaits(rounds[0], communicator: SingleProcessCommunicator()) == nil)
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
        let uneven = {
            var c = Self.configuration(.finetune); c.batchSize = 15; return c
        }()
        #expect(throws: ShardingError.self) {
            _ = try InProcessGroup.run(size: 2) { try DataParallelBenchmark.run(uneven, communicator: $0) }
        }
    }
}
