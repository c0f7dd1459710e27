import Testing
import Distributed
import NeuralNetworks
import Tensors

/// Row-sparse parameters (embedding tables) reduced by the union of the rows the ranks touch.
@Suite struct SparseRowReductionTests {
    /// Rank r's gradients: a dense vector, and a 10×4 table whose rows `touched(r)` are nonzero.
    static func gradients(rank: Int) -> [Tensor] {
        let touched: [[Int]] = [[1, 4], [4, 7], [], [9]]
        var table = [Float](repeating: 0, count: 40)
        for row in touched[rank] { for j in 0..<4 { table[row * 4 + j] = Float(rank + 1) * 0.37 + Float(row) - Float(j) * 0.11 } }
        if rank == 1 { table[7 * 4 + 2] = 0 }  // a row with one zero entry is still sent whole
        let dense = Tensor(shape: [5], storage: (0..<5).map { Float($0 + rank) * 0.3 })
        return [Tensor(shape: [10, 4], storage: table), dense]
    }

    @Test(arguments: [2, 4]) func equalsTheDenseReductionOnEveryRank(_ size: Int) throws {
        let results = try InProcessGroup.run(size: size) { c -> ([[Float]], [[Float]], AllReduceStatistics, AllReduceStatistics) in
            let counts = [40, 5]
            let dense = BucketedAllReduce(communicator: c, counts: counts, capacityBytes: 16)
            let sparse = BucketedAllReduce(communicator: c, counts: counts, rowWidths: [4, nil], capacityBytes: 16)
            let g = Self.gradients(rank: c.rank)
            let addend = [Tensor(shape: [10, 4], storage: (0..<40).map { $0 == 2 && c.rank == 0 ? 1.5 : 0 }), Tensor.zeros([5])]
            dense.begin(scale: 0.5, addend: addend)
            sparse.begin(scale: 0.5, addend: addend)
            for (i, t) in g.enumerated().reversed() { dense.gradientReady(i, t); sparse.gradientReady(i, t) }
            let a = try dense.finish(like: g).map(\.scalars)
            let b = try sparse.finish(like: g).map(\.scalars)
            return (a, b, dense.statistics, sparse.statistics)
        }
        for (a, b, denseStatistics, sparseStatistics) in results {
            #expect(a == b)
            #expect(a == results[0].0)
            // Rows touched by some rank: 1, 4, 7 (and 0 through the addend), plus 9 with four ranks.
            #expect(sparseStatistics.sparseRowsSent == (size == 2 ? 4 : 5) && sparseStatistics.sparseRowsTotal == 10)
            #expect(sparseStatistics.bytes < denseStatistics.bytes)
        }
        // The mean of the ranks' scaled rows, for example row 4 (touched by ranks 0 and 1).
        let expected = (0..<4).map { j in
            0.5 * (Self.gradients(rank: 0)[0].scalars[16 + j] + Self.gradients(rank: 1)[0].scalars[16 + j]) / Float(size)
        }
        #expect(zip(results[0].1[0][16..<20], expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(results[0].1[0][8..<12].allSatisfy { $0 == 0 })
    }

    /// After the first round the buckets are rebuilt in readiness order, still without the row-sparse table;
    /// later rounds give the dense result and send the same bytes.
    @Test func laterRoundsKeepTheTableOutOfTheBuckets() throws {
        let results = try InProcessGroup.run(size: 2) { c -> (Bool, [[Float]], [[Float]], [Int]) in
            let dense = BucketedAllReduce(communicator: c, counts: [40, 5], capacityBytes: 16)
            let sparse = BucketedAllReduce(communicator: c, counts: [40, 5], rowWidths: [4, nil], capacityBytes: 16)
            let g = Self.gradients(rank: c.rank)
            var bytes: [Int] = []
            var last: ([[Float]], [[Float]]) = ([], [])
            for _ in 0..<3 {
                let before = sparse.statistics.bytes
                last = (try dense.reduce(g).map(\.scalars), try sparse.reduce(g).map(\.scalars))
                bytes.append(sparse.statistics.bytes - before)
            }
            let bucketed = Set(sparse.layout.buckets.flatMap(\.parameters))
            return (bucketed == [1] && sparse.layout.location[0] == nil, last.0, last.1, bytes)
        }
        for (layoutExcludesTable, dense, sparse, bytes) in results {
            #expect(layoutExcludesTable)
            #expect(dense == sparse)
            #expect(Set(bytes).count == 1, "bytes per round \(bytes)")
        }
    }

    /// A table whose gradient is dense (every row nonzero) is sent whole and still reduced correctly.
    @Test func aDenseGradientMarkedSparseIsReducedWhole() throws {
        let results = try InProcessGroup.run(size: 2) { c -> ([Float], Int) in
            let reducer = BucketedAllReduce(communicator: c, counts: [12], rowWidths: [3])
            let g = Tensor(shape: [4, 3], storage: (0..<12).map { Float($0 + 1 + 100 * c.rank) })
            let mean = try reducer.reduce([g])[0].scalars
            return (mean, reducer.statistics.sparseRowsSent)
        }
        #expect(results[0].0 == (0..<12).map { Float($0 + 1) + 50 } && results[1].0 == results[0].0)
        #expect(results[0].1 == 4)
    }

    /// Embedding layers declare their tables; the keys come out dotted like `namedParameters()`.
    @Test func modulesListTheirEmbeddingTables() {
        var rng = RandomGenerator(seed: 1)
        let config = BertConfiguration(layers: 1, hidden: 8, heads: 2, intermediate: 16, vocabularySize: 20, maxPositions: 12)
        let model = TransformerTextClassifier(config, classes: 2, rng: &rng)
        let keys = model.rowSparseKeys()
        #expect(!keys.isEmpty && keys.allSatisfy { $0.hasSuffix("weight") })
        let parameterKeys = Set(model.namedParameters().map(\.key))
        #expect(keys.isSubset(of: parameterKeys))
        #expect(keys.count == 3 && keys.contains { $0.hasSuffix("embeddings.word_embeddings.weight") })
        let bag = EmbeddingBagClassifier(vocabularySize: 5, embeddingWidth: 3, hiddenWidth: 4, classes: 2, rng: &rng)
        #expect(bag.rowSparseKeys() == ["embedding.weight"])
    }
}
