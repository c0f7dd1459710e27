import Testing
import Distributed
import NeuralNetworks
import Tensors

/// Collectives of ranks on threads, bucket layout, and overlap of the bucketed all-reduce with backward.
@Suite struct CommunicatorTests {
    @Test func collectivesOfThreeRanks() throws {
        let results = try InProcessGroup.run(size: 3) { c -> [[Float]] in
            var sum: [Float] = [Float(c.rank), 1]
            try c.allReduce(&sum, .sum)
            var mean: [Float] = [Float(c.rank) * 3]
            try c.allReduce(&mean, .mean)
            var maximum: [Float] = [Float(-c.rank), Float(c.rank)]
            try c.allReduce(&maximum, .max)
            let buffer = ReductionBuffer([Float(c.rank + 1)])
            let request = c.startAllReduce(buffer, .sum)
            try request.wait()
            var root: [Float] = [Float(c.rank + 10)]
            try c.broadcast(&root, root: 2)
            let gathered = try c.gather([Float](repeating: Float(c.rank), count: c.rank), root: 0)
            try c.barrier()
            return [sum, mean, maximum, buffer.values, root, (gathered ?? []).flatMap { $0 } + [Float(gathered?.count ?? -1)]]
        }
        for (rank, r) in results.enumerated() {
            #expect(r[0] == [3, 3])
            #expect(r[1] == [3])
            #expect(r[2] == [0, 2])
            #expect(r[3] == [6])
            #expect(r[4] == [12])
            #expect(r[5] == (rank == 0 ? [1, 2, 2, 3] : [-1]))
        }
    }

    /// The same self-test `bench ddp --check` runs under mpirun.
    @Test(arguments: [1, 2, 3, 4]) func selfTestPassesOnThreads(_ size: Int) throws {
        _ = try InProcessGroup.run(size: size) { c in try CollectiveSelfTest.run(c) }
        try CollectiveSelfTest.run(SingleProcessCommunicator())
    }

    @Test func gatherSamplesOrdersByIndex() throws {
        let results = try InProcessGroup.run(size: 2) { c in
            try c.gatherSamples(indices: c.rank == 0 ? [4, 0] : [1, 3], values: c.rank == 0 ? [40, 0] : [10, 30]).map { $0.map(\.value) }
        }
        #expect(results[0] == [0, 10, 30, 40])
        #expect(results[1] == nil)
    }

    @Test func bucketsFillInReverseKeyOrderUpToCapacity() {
        let layout = GradientBuckets(counts: [10, 20, 30, 40, 80], capacityBytes: 50 * 4)
        // 80 alone (over capacity), 40, then 30 + 20 = 50, then 10.
        #expect(layout.buckets.map(\.parameters) == [[4], [3], [2, 1], [0]])
        #expect(layout.buckets.map(\.count) == [80, 40, 50, 10])
        #expect(layout.buckets[2].offsets == [0, 30])
        #expect(GradientBuckets(counts: [10, 20], capacityBytes: 1 << 20).buckets.map(\.parameters) == [[1, 0]])
    }

    @Test func abortWakesTheOtherRanks() {
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            _ = try InProcessGroup.run(size: 2) { c -> Int in
                if c.rank == 1 { throw Boom() }
                var x: [Float] = [1]
                try c.allReduce(&x, .sum)  // would hang without the abort
                return 0
            }
        }
    }

    @Test func checksumsDetectADivergedRank() throws {
        let outcomes = try InProcessGroup.run(size: 3) { c -> String in
            let t = Tensor([1, 2, 3])
            if c.rank == 2 { t.withUnsafeMutableBufferPointer { $0[1] = Float(bitPattern: (2 as Float).bitPattern + 1) } }
            do {
                try ReplicaCheck.verify(ReplicaCheck.checksum([t]), step: 7, what: "θ", communicator: c)
                return "agreed"
            } catch let error as ReplicaDivergence {
                return "\(error.step) \(error.ranks)"
            }
        }
        #expect(outcomes == ["7 [2]", "7 [2]", "7 [2]"])
        #expect(ReplicaDivergence(step: 7, ranks: [2], what: "θ").localizedDescription.contains("rank 2"))
    }

    /// Each rank's gradient on its half of a batch is reduced bucket by bucket while backward runs: the first
    /// bucket starts before the last gradient is ready, every bucket starts inside the pass, and the result is
    /// the whole batch's gradient.
    @Test func bucketsStartDuringBackwardAndAverageToTheGlobalGradient() throws {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.normal([8, 6], using: &rng)
        let labels = (0..<8).map { $0 % 3 }
        let model = MLP(widths: [6, 16, 16, 3], rng: &rng)
        let keys = model.namedParameters()
        let globalLoss = Loss.meanCrossEntropy(model(x, .evaluation()), labels: labels)
        let global = Autodiff.gradients(of: globalLoss, wrt: keys.map(\.tensor))
        let state = keys.map { $0.tensor.scalars }
        let shapes = keys.map { $0.tensor.shape }
        let results = try InProcessGroup.run(size: 2) {
            c -> (grads: [[Float]], launch: [Int], readyAtLaunch: [Int], started: Int, startedInPass: Int) in
            var rng = RandomGenerator(seed: 3)
            let local = MLP(widths: [6, 16, 16, 3], rng: &rng)
            let parameters = local.namedParameters().map(\.tensor)
            for (p, values) in zip(parameters, state) { p.assign(values) }
            let rows = Sharding.strided(Array(0..<8), rank: c.rank, size: 2)
            let loss = Loss.meanCrossEntropy(local(x.indexSelect(rows), .evaluation()), labels: rows.map { labels[$0] })
            let reducer = BucketedAllReduce(communicator: c, counts: parameters.map(\.count), capacityBytes: 64 * 4)
            // Round 1 uses reverse key order and learns the readiness order; round 2 follows it.
            reducer.begin()
            _ = try reducer.finish(like: Autodiff.gradients(of: loss, wrt: parameters, onGradientReady: reducer.gradientReady))
            let before = c.startedReductions
            reducer.begin()
            let grads = Autodiff.gradients(of: loss, wrt: parameters, onGradientReady: reducer.gradientReady)
            let startedInPass = c.startedReductions - before
            let mean = try reducer.finish(like: grads)
            return (mean.map(\.scalars), reducer.launchOrder, reducer.readyCountAtLaunch, reducer.layout.buckets.count, startedInPass)
        }
        for r in results {
            #expect(r.started >= 4, "the test needs several buckets")
            #expect(r.startedInPass == r.started, "every bucket starts during backward")
            #expect(r.launch == Array(0..<r.started), "buckets start in readiness order")
            #expect(r.readyAtLaunch.first! < shapes.count, "the first bucket starts before backward ends")
            for (g, expected) in zip(r.grads, global) {
                for (a, b) in zip(g, expected.scalars) { #expect(abs(a - b) <= 1e-6 + 1e-5 * abs(b)) }
            }
        }
        #expect(results[0].grads == results[1].grads, "ranks get bit-identical means")
    }
}
