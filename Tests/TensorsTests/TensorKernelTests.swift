import Foundation
import Testing
@testable import Tensors
import WinnowTestSupport

/// Forward values against naive references, fast math accuracy, RNG reproducibility, autodiff plumbing.
@Suite struct TensorKernelTests {
    @Test func matmulMatchesNaiveProduct() {
        let a = randomTensor([7, 5], seed: 1), b = randomTensor([5, 3], seed: 2)
        let c = a.matmul(b)
        var expected = [Float](repeating: 0, count: 21)
        for i in 0..<7 { for j in 0..<3 { for k in 0..<5 { expected[i * 3 + j] += a.storage[i * 5 + k] * b.storage[k * 3 + j] } } }
        expectClose(c.storage, expected)
        expectClose(a.transposed().matmul(b, transposeA: true).storage, expected)
        expectClose(a.matmul(b.transposed(), transposeB: true).storage, expected)
    }

    @Test func broadcastingForwardValues() {
        let a = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        #expect((a + Tensor([10, 20, 30])).storage == [11, 22, 33, 14, 25, 36])
        #expect((a * Tensor(shape: [2, 1], storage: [2, 3])).storage == [2, 4, 6, 12, 15, 18])
        #expect((Tensor(shape: [2, 1, 2], storage: [1, 2, 3, 4]) + Tensor(shape: [3, 1], storage: [10, 20, 30])).shape == [2, 3, 2])
        #expect(a.sum(axes: [0]).storage == [5, 7, 9])
        #expect(a.sum(axes: [1]).storage == [6, 15])
        #expect(a.transposed().storage == [1, 4, 2, 5, 3, 6])
        #expect(Tensor.concatenate([a, a], axis: 1).storage == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    }

    @Test func fastMathAccuracy() {
        var worstExp = 0.0, worstErf = 0.0, worstTanh = 0.0
        for i in 0..<20_001 {
            let x = Float(i - 10_000) / 1000  // [-10, 10]
            let e = Double(FastMath.exp(x)), ref = Foundation.exp(Double(x))
            worstExp = max(worstExp, abs(e - ref) / ref)
            worstErf = max(worstErf, abs(Double(FastMath.erf(x)) - Foundation.erf(Double(x))))
            worstTanh = max(worstTanh, abs(Double(FastMath.tanh(x)) - Foundation.tanh(Double(x))))
        }
        #expect(worstExp < 3e-7, "exp relative error \(worstExp)")
        #expect(worstErf < 5e-7, "erf absolute error \(worstErf)")
        #expect(worstTanh < 4e-7, "tanh absolute error \(worstTanh)")
        let gelu = Tensor([-3, -1, 0, 0.5, 2]).gelu().storage
        let reference = [-3.0, -1, 0, 0.5, 2].map { $0 * 0.5 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }
        expectClose(gelu, reference.map(Float.init), tolerance: 1e-6)
    }

    @Test func softmaxRowsSumToOneAndLogSoftmaxAgrees() {
        let x = randomTensor([3, 7], seed: 3, low: -20, high: 20)
        let p = x.softmax()
        for row in 0..<3 { #expect(abs(p.storage[row * 7..<(row + 1) * 7].reduce(0, +) - 1) < 1e-5) }
        expectClose(x.logSoftmax().exp().storage, p.storage, tolerance: 1e-5)
    }

    @Test func randomGeneratorIsReproducibleAndRestorable() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        let saved = a.state
        let first = (0..<3).map { _ in a.uniform() }
        a.state = saved
        #expect((0..<3).map { _ in a.uniform() } == first)
        #expect(RandomGenerator(seed: 1).state != RandomGenerator(seed: 2).state)
        var c = RandomGenerator(seed: 3)
        let perm = c.permutation(100)
        #expect(perm.sorted() == Array(0..<100) && perm != Array(0..<100))
        let normals = (0..<20_000).map { _ in Double(c.normal()) }
        let mean = normals.reduce(0, +) / 20_000, variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20_000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05, "mean \(mean) variance \(variance)")
        let bern = Tensor.bernoulli([10_000], probability: 0.3, using: &c).storage.reduce(0, +) / 10_000
        #expect(abs(bern - 0.3) < 0.02)
    }

    @Test func gradientsOnlyForRequestedTargetsAndNoGradScope() {
        let w = Tensor([1, 2, 3], requiresGrad: true), v = Tensor([4, 5, 6], requiresGrad: true)
        let loss = (w * v).sum()
        let grads = Autodiff.gradients(of: loss, wrt: [v])
        #expect(grads[0].storage == [1, 2, 3])
        let untouched = withoutGrad { (w * v).sum() }
        #expect(untouched.node == nil && !untouched.requiresGrad)
        // A target the output does not depend on gets zeros.
        let other = Tensor([1], requiresGrad: true)
        #expect(Autodiff.gradients(of: loss, wrt: [other])[0].storage == [0])
        // detach cuts the graph.
        #expect(Autodiff.gradients(of: (w.detached() * v).sum(), wrt: [w])[0].storage == [0, 0, 0])
    }

    @Test func backwardAccumulatesAndHooksFireOncePerTarget() {
        let w = Tensor([1, 2], requiresGrad: true)
        (w * w).sum().backward()
        (w * 3).sum().backward()
        #expect(w.grad?.storage == [5, 7])
        let a = Tensor([1, 1], requiresGrad: true), b = Tensor([2, 2], requiresGrad: true)
        var fired: [Int] = []
        _ = Autodiff.gradients(of: ((a * b).sum() + (a * a).sum()), wrt: [a, b]) { index, _ in fired.append(index) }
        #expect(fired.sorted() == [0, 1])
    }

    @Test func firstOrderGradientsRecordNothing() {
        let w = Tensor([1, 2, 3], requiresGrad: true)
        let g = Autodiff.gradients(of: (w * w * w).sum(), wrt: [w])
        #expect(g[0].node == nil && !g[0].requiresGrad)
        let g2 = Autodiff.gradients(of: (w * w * w).sum(), wrt: [w], createGraph: true)
        #expect(g2[0].requiresGrad)
        // d/dw Σ 3w² = 6w
        #expect(Autodiff.gradients(of: g2[0].sum(), wrt: [w])[0].storage == [6, 12, 18])
    }
}
