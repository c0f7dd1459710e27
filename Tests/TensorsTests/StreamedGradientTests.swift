import Testing
@testable import Tensors
import WinnowTestSupport

/// `Autodiff.gradients(of:wrt:streaming:)`: streamed targets arrive in row blocks that, put together, equal the
/// ordinary gradients; everything else is returned as usual.
@Suite struct StreamedGradientTests {
    func leaf(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = randomTensor(shape, seed: seed)
        t.requiresGrad = true
        return t
    }

    /// Streams `streamed` of `targets`, assembling each into a buffer; checks blocks come in order, cover every
    /// row once and respect the block size where the target is block-computed. Returns (assembled, returned,
    /// largest block).
    func stream(
        _ output: Tensor, _ targets: [Tensor], streamed: Set<Int>, blockElements: Int
    )
        -> (assembled: [Int: [Float]], returned: [Tensor?], blocks: [Int: [Int]])
    {
        var assembled: [Int: [Float]] = [:]
        var nextRow: [Int: Int] = [:]
        var blocks: [Int: [Int]] = [:]
        let returned = Autodiff.gradients(
            of: output, wrt: targets,
            streaming: Autodiff.RowStreaming(targets: streamed, blockElements: blockElements) { index, rows, values in
                #expect(streamed.contains(index))
                #expect(rows.lowerBound == nextRow[index, default: 0], "blocks in order, no gaps")
                let width = targets[index].count / Swift.max(targets[index].shape.first ?? 1, 1)
                #expect(values.count == rows.count * width)
                nextRow[index] = rows.upperBound
                assembled[index, default: []] += Array(values)
                blocks[index, default: []].append(values.count)
                values.initialize(repeating: .nan)  // scratch: overwriting it must not disturb the pass
            })
        for index in streamed { #expect(nextRow[index] == (targets[index].shape.first ?? 1), "every row of target \(index) streamed") }
        return (assembled, returned, blocks)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmulOperandsStreamInRowBlocks(transposeA: Bool, transposeB: Bool) {
        // C = op(A)·op(B) with m = 6, k = 7, n = 5, both operands streamed, blocks of 2 rows (not dividing 7 or 5).
        let a = leaf(transposeA ? [7, 6] : [6, 7], seed: 1), b = leaf(transposeB ? [5, 7] : [7, 5], seed: 2)
        let weights = randomTensor([6, 5], seed: 3)
        func loss() -> Tensor { (a.matmul(b, transposeA: transposeA, transposeB: transposeB).tanh() * weights).sum() }
        let expected = Autodiff.gradients(of: loss(), wrt: [a, b]).map(\.scalars)
        let (assembled, returned, blocks) = stream(loss(), [a, b], streamed: [0, 1], blockElements: 2 * 7)
        for index in 0..<2 {
            let got = assembled[index] ?? []
            #expect(got.count == expected[index].count)
            #expect(zip(got, expected[index]).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "target \(index)")
            #expect(returned[index] == nil)
            #expect((blocks[index] ?? []).allSatisfy { $0 <= 14 }, "one scratch block of at most 14 elements")
            #expect((blocks[index] ?? []).count > 1, "computed in several blocks")
        }
    }

    @Test func linearLayerWeightStreamsAndOthersReturn() {
        // A two-layer network with a 3-D input (reshaped into the 2-D product): weights stream in blocks,
        // biases (reached through a broadcast add) come as one block, the input's gradient is returned.
        let x = leaf([2, 3, 4], seed: 4)
        let w1 = leaf([6, 4], seed: 5), b1 = leaf([6], seed: 6), w2 = leaf([2, 6], seed: 7)
        func loss() -> Tensor { let y = (x.matmul(w1, transposeB: true) + b1).relu().matmul(w2, transposeB: true); return (y * y).sum() }
        let targets = [w1, b1, w2, x]
        let expected = Autodiff.gradients(of: loss(), wrt: targets).map(\.scalars)
        let (assembled, returned, blocks) = stream(loss(), targets, streamed: [0, 1, 2], blockElements: 8)
        for index in 0..<3 {
            #expect(zip(assembled[index] ?? [], expected[index]).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "target \(index)")
            #expect(assembled[index]?.count == expected[index].count)
        }
        #expect(blocks[0] == [8, 8, 8], "w1: 2 rows of 4 per block")
        #expect(blocks[1] == [6], "b1: whole")
        #expect(blocks[2] == [6, 6], "w2: at least one row per block")
        #expect(returned[3]?.scalars == expected[3])
    }

    @Test func sharedAndUnreachedTargetsComeWhole() {
        // w feeds two products (its gradient is a sum, computed whole); u is not reached (zeros, one block).
        let x = leaf([3, 4], seed: 8), w = leaf([5, 4], seed: 9), u = leaf([2, 2], seed: 10)
        func loss() -> Tensor { let y = x.matmul(w, transposeB: true); return y.sum() + (y * x.matmul(w, transposeB: true)).sum() }
        let expected = Autodiff.gradients(of: loss(), wrt: [w]).map(\.scalars)
        let (assembled, _, blocks) = stream(loss(), [w, u, w], streamed: [0, 1, 2], blockElements: 4)
        #expect(assembled[0] == expected[0], "computed whole by the ordinary backward")
        #expect(blocks[0] == [20])
        #expect(assembled[1] == [0, 0, 0, 0])
        let ordinary = Autodiff.gradients(of: loss(), wrt: [w, u, w])
        #expect(assembled[2] == ordinary[2].scalars, "a repeated target gets what `gradients` gives it (zeros)")
    }

    @Test func blockedWeightGradientMatchesTheWholeProduct() {
        // A 100×64 batch into a 96×64 weight in blocks of 16 rows: the same sums over the batch axis, which
        // OpenBLAS may split differently for a smaller result, so equal to rounding.
        let x = randomTensor([100, 64], seed: 11), w = leaf([96, 64], seed: 12)
        func loss() -> Tensor { x.matmul(w, transposeB: true).tanh().sum() }
        let expected = Autodiff.gradients(of: loss(), wrt: [w])[0].scalars
        let (assembled, _, blocks) = stream(loss(), [w], streamed: [0], blockElements: 16 * 64)
        let got = assembled[0] ?? []
        #expect(got.count == expected.count)
        #expect(blocks[0]?.count == 6)
        let worst = zip(got, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(worst <= 1e-5, "largest relative difference \(worst)")
    }

    @Test func gradientObjectsSharedByInputsAreCopiedBeforeTheConsumerOverwritesThem() {
        // add hands one gradient object to both inputs and to the intermediate h that backward continues
        // through; the consumer overwrites every block with NaN.
        let a = leaf([3, 4], seed: 1), b = leaf([3, 4], seed: 2), p = leaf([3, 4], seed: 3)
        func loss() -> Tensor { let h = a * a; return ((a + b) * 2 + h + p).sum() }
        let expected = Autodiff.gradients(of: loss(), wrt: [a, b, p]).map(\.scalars)
        let (assembled, _, _) = stream(loss(), [a, b, p], streamed: [0, 1, 2], blockElements: 4)
        for index in 0..<3 { #expect(assembled[index] == expected[index], "target \(index)") }
    }

    @Test func intermediateTargetsGetACopy() {
        let x = leaf([5], seed: 4)
        let expected = { () -> [[Float]] in
            let y = x * x; return Autodiff.gradients(of: (y * 3).sum(), wrt: [y, x]).map(\.scalars)
        }()
        let y = x * x
        let (assembled, returned, _) = stream((y * 3).sum(), [y, x], streamed: [0], blockElements: 4)
        #expect(assembled[0] == expected[0])
        #expect(returned[1]?.scalars == expected[1], "x's gradient flows through y's, which the consumer overwrote in its copy")
    }

    @Test func onlyTheFirstOfRepeatedTargetsGetsTheGradient() {
        // Streaming only the repeat: the first index is returned whole, the repeat streams zeros.
        let x = randomTensor([3, 4], seed: 13), w = leaf([5, 4], seed: 14)
        func loss() -> Tensor { x.matmul(w, transposeB: true).tanh().sum() }
        let expected = Autodiff.gradients(of: loss(), wrt: [w])[0].scalars
        let (assembled, returned, _) = stream(loss(), [w, w], streamed: [1], blockElements: 4)
        #expect(returned[0]?.scalars == expected)
        #expect(assembled[1] == [Float](repeating: 0, count: 20))
    }

    @Test func aWeightWithoutRowsStreamsOneEmptyBlock() {
        let x = randomTensor([3, 4], seed: 15), w = leaf([0, 4], seed: 16), u = leaf([2, 4], seed: 17)
        func loss() -> Tensor { x.matmul(w, transposeB: true).sum() + x.matmul(u, transposeB: true).sum() }
        let (assembled, _, blocks) = stream(loss(), [w, u], streamed: [0, 1], blockElements: 4)
        #expect(blocks[0] == [0])
        #expect(assembled[0] == [])
    }
}
