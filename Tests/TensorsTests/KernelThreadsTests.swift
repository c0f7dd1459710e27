import Testing
@testable import Tensors
import WinnowTestSupport

/// The kernels split over threads give bit-identical results for any number of chunks, and the ranges they hand
/// out cover the work exactly once; the generator's register-held draws are `next()`'s.
@Suite struct KernelThreadsTests {
    /// Every op below on 1, 2 and 3 chunks (3 splits the rows and columns unevenly).
    @Test func splitKernelsAreBitIdenticalToOneThread() {
        let rows = 200, width = 384
        let x = randomTensor([rows, width], seed: 1), y = randomTensor([rows, width], seed: 2)
        let bias = randomTensor([width], seed: 3), gradient = randomTensor([rows, width], seed: 4)
        let weight = randomTensor([width], seed: 5)
        #expect(rows * width >= KernelThreads.minimumElements)
        func outputs() -> [[Float]] {
            var results = [
                (x + y).storage, (x - y).storage, (x * y).storage, (x / (y.abs() + 1)).storage, (x + bias).storage,
                (bias * x).storage, (x * 0.3).storage, (x + 2).storage, (-x).storage, x.exp().storage, x.tanh().storage,
                x.sigmoid().storage, x.relu().storage, x.gelu().storage, x.geluDerivative().storage, x.softmax().storage,
                x.logSoftmax().storage, x.sumTo([width]).storage,
                x.layerNormalized(weight: weight, bias: bias, epsilon: 1e-5).storage,
            ]
            // The fused backward passes: GELU, softmax, layer normalisation (input, weight and bias gradients).
            let input = x.copy(), w = weight.copy(), b = bias.copy()
            for t in [input, w, b] { t.requiresGrad = true }
            let loss = (input.gelu().softmax().layerNormalized(weight: w, bias: b, epsilon: 1e-5) * gradient).sum()
            results += Autodiff.gradients(of: loss, wrt: [input, w, b]).map(\.storage)
            return results
        }
        let one = KernelThreads.$threadsOverride.withValue(1) { outputs() }
        for threads in [2, 3] {
            let split = KernelThreads.$threadsOverride.withValue(threads) { outputs() }
            for (index, (a, b)) in zip(one, split).enumerated() {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "output \(index) differs on \(threads) chunks")
            }
        }
    }

    @Test func rangesCoverTheWorkExactlyOnce() {
        for (items, threads) in [(0, 2), (1, 2), (5, 3), (1 << 16, 2), (1 << 16 + 7, 3), (2, 4)] {
            let (counts, starts) = KernelThreads.$threadsOverride.withValue(threads) { () -> ([Int], [Int]) in
                var counts = [Int](repeating: 0, count: items), starts = [Int](repeating: -1, count: items)
                counts.withUnsafeMutableBufferPointer { c in
                    starts.withUnsafeMutableBufferPointer { s in
                        KernelThreads.forEachRange(items, elementsPerItem: KernelThreads.minimumElements) { range in
                            for i in range {
                                c[i] += 1
                                s[i] = range.lowerBound
                            }
                        }
                    }
                }
                return (counts, starts)
            }
            #expect(counts.allSatisfy { $0 == 1 }, "\(items) items on \(threads) threads")
            #expect(Set(starts).count == min(items, threads), "\(items) items on \(threads) threads: chunks")
        }
        // Small work stays on the calling thread as one range.
        let chunks = KernelThreads.$threadsOverride.withValue(2) { KernelThreads.chunks(forElements: 1000) }
        #expect(chunks == 1)
    }

    @Test func geluInputGradientIsTheComposedProduct() {
        let x = randomTensor([300, 200], seed: 6), g = randomTensor([300, 200], seed: 7)
        let input = x.copy()
        input.requiresGrad = true
        let fused = Autodiff.gradients(of: (input.gelu() * g).sum(), wrt: [input])[0]
        #expect(fused.storage.map(\.bitPattern) == (g * x.geluDerivative()).storage.map(\.bitPattern))
    }

    @Test func registerHeldDrawsAreNextsAndBernoulliIsUniformBelowP() {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let direct = (0..<1000).map { _ in a.next() }
        let held = b.withDraws { next in (0..<1000).map { _ in next() } }
        #expect(held == direct && a == b)
        var c = RandomGenerator(seed: 10), d = RandomGenerator(seed: 10)
        let mask = Tensor.bernoulli([5000], probability: 0.9, value: 1 / 0.9, using: &c)
        #expect(mask.storage == (0..<5000).map { _ in d.uniform() < 0.9 ? 1 / 0.9 : 0 })
        #expect(c == d)
    }
}
