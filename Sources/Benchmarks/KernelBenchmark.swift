import Foundation
import NeuralNetworks
import NoisyLabels
import Optimizers
import Runtime
import Tensors

/// `winnow bench kernels`: sgemm throughput, an MLP and a transformer-block train step as fractions of
/// it, elementwise bandwidth, peak memory.
public enum KernelBenchmark {
    /// Runs every kernel benchmark; `quick` shrinks repeats (for tests of the command itself).
    public static func run(quick: Bool = false) -> BenchmarkReport {
        let repeats = quick ? 1 : 7
        var figures: [BenchmarkFigure] = []
        var rng = RandomGenerator(seed: 1)

        // sgemm at the shapes the models use: (M, K, N) for [M, K]·[K, N].
        for (m, k, n) in [
            (2048, 384, 1536), (2048, 1536, 384), (2048, 384, 384), (1024, 384, 1536), (256, 784, 1024), (256, 1024, 1024),
            (256, 784, 256), (32, 256, 10),
        ] {
            let reference = SgemmReference(m: m, k: k, n: n, rng: &rng)
            let seconds = BenchmarkClock.median(repeats: repeats * 3, reference.run)
            figures.append(.init(reference.name, reference.gflops(seconds: seconds), "GFLOP/s"))
        }

        // MLP 784-1024-1024-10 train step, batch 256, Adam.
        let mlp = MLP(widths: [784, 1024, 1024, 10], rng: &rng)
        let adam = Adam(learningRate: 1e-3)
        let x = Tensor.uniform([256, 784], using: &rng)
        let labels = (0..<256).map { $0 % 10 }
        let named = mlp.namedParameters()
        let context = ForwardContext(training: true)
        func mlpStep() {
            let loss = Loss.meanCrossEntropy(mlp(x, context), labels: labels)
            adam.step(named, gradients: Autodiff.gradients(of: loss, wrt: named.map(\.tensor)))
        }
        let mlpReference = SgemmReference(m: 256, k: 1024, n: 1024, rng: &rng)
        let (mlpSeconds, mlpReferenceSeconds) = BenchmarkClock.alternatingMedians(repeats: repeats * 2, mlpStep, mlpReference.run)
        // Counted (FLOPCounter): forward 2·B·Σ in·out; backward dW for every layer and dX for all but the first.
        let mlpFlops = Double(FLOPCounter.measure(mlpStep).flops)
        let mlpGflops = mlpFlops / mlpSeconds / 1e9
        figures.append(
            .init(
                "MLP 784-1024-1024-10 train step (B=256, Adam)", 256 / mlpSeconds, "samples/s",
                note: mlpReference.note(stepSeconds: mlpSeconds, gflops: mlpGflops, referenceSeconds: mlpReferenceSeconds)))

        // One BERT-layout encoder block: hidden 384, 12 heads, intermediate 1536, T=128, B=16, Adam.
        let (h, inter, t, b) = (384, 1536, 128, 16)
        let block = TransformerEncoderLayer(hidden: h, heads: 12, intermediate: inter, dropout: 0.1, rng: &rng)
        let blockNamed = block.namedParameters()
        let blockAdam = Adam(learningRate: 1e-4)
        let input = Tensor.normal([b, t, h], using: &rng)
        let mask = MultiHeadSelfAttention.maskBias(Array(repeating: Array(repeating: 1, count: t), count: b))
        func blockStep() {
            let y = block(input, maskBias: mask, context)
            let loss = (y * y).mean()
            blockAdam.step(blockNamed, gradients: Autodiff.gradients(of: loss, wrt: blockNamed.map(\.tensor)))
        }
        let blockReference = SgemmReference(m: 2048, k: 384, n: 1536, rng: &rng)
        let (blockSeconds, blockReferenceSeconds) = BenchmarkClock.alternatingMedians(
            repeats: repeats, blockStep, blockReference.run)
        let tokens = Double(b * t)
        // Counted (FLOPCounter); per token the forward is 8H² + 4H·I + 4T·H and backward twice that, less the input
        // gradient of the block's input, which does not require one.
        let blockFlops = Double(FLOPCounter.measure(blockStep).flops)
        let blockGflops = blockFlops / blockSeconds / 1e9
        figures.append(
            .init(
                "Encoder block train step (H=384, 12 heads, I=1536, T=128, B=16)", tokens / blockSeconds, "tokens/s",
                note: blockReference.note(stepSeconds: blockSeconds, gflops: blockGflops, referenceSeconds: blockReferenceSeconds)))

        figures.append(miniLMTrainStep(repeats: repeats, rng: &rng))

        // Elementwise kernels on 4M floats: bytes moved per second (reads + writes).
        let n = 1 << 22
        let u = Tensor.uniform([n], low: -3, high: 3, using: &rng), v = Tensor.uniform([n], using: &rng)
        let bias = Tensor.uniform([1024], using: &rng), rows = u.reshaped([n / 1024, 1024])
        let cases: [(String, Double, () -> Void)] = [
            ("add (same shape)", 12, { _ = u + v }),
            ("add (row broadcast)", 8, { _ = rows + bias }),
            ("mul", 12, { _ = u * v }),
            ("exp", 8, { _ = u.exp() }),
            ("gelu (erf)", 8, { _ = u.gelu() }),
            ("tanh", 8, { _ = u.tanh() }),
            ("softmax rows of 1024", 8, { _ = rows.softmax() }),
            ("sum", 4, { _ = u.sum() }),
        ]
        for (name, bytesPerElement, body) in cases {
            let seconds = BenchmarkClock.median(repeats: repeats * 2, body)
            figures.append(.init("elementwise \(name), 4M floats", bytesPerElement * Double(n) / seconds / 1e9, "GB/s"))
        }
        figures.append(.init("peak resident memory", BenchmarkClock.peakResidentMiB, "MiB"))
        return BenchmarkReport(benchmark: "kernels", blasThreads: BLAS.threads, figures: figures)
    }

    /// The whole all-MiniLM-L6-v2 classifier (6 layers, H 384, 12 heads, I 1536, 30,522-word embeddings, a
    /// 2-class head on the mean of the last hidden states), sequence 64, batch 16, forward + backward + AdamW:
    /// the train step of continued pretraining's task and of the noisy-label fine-tuning recipe. Randomly
    /// initialised (the speed does not depend on the weights) and every position a token (no padding).
    static func miniLMTrainStep(repeats: Int, rng: inout RandomGenerator) -> BenchmarkFigure {
        let (length, batch) = (64, 16)
        let configuration = BertConfiguration.miniLM
        let model = BertClassifier(configuration, classes: 2, rng: &rng)
        let named = model.namedParameters()
        let adamW = Adam.adamW(learningRate: 2e-5, beta1: 0.9, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.01)
        let ids = (0..<batch).map { _ in (0..<length).map { _ in rng.integer(below: configuration.vocabularySize) } }
        let mask = [[Int]](repeating: [Int](repeating: 1, count: length), count: batch)
        let labels = (0..<batch).map { $0 % 2 }
        let context = ForwardContext(training: true)
        func step() {
            let loss = Loss.meanCrossEntropy(model.features(ids, mask: mask, context).logits, labels: labels)
            adamW.step(named, gradients: Autodiff.gradients(of: loss, wrt: named.map(\.tensor)))
        }
        let reference = SgemmReference(m: batch * length, k: configuration.hidden, n: configuration.intermediate, rng: &rng)
        let (seconds, referenceSeconds) = BenchmarkClock.alternatingMedians(repeats: repeats, step, reference.run)
        let gflops = Double(FLOPCounter.measure(step).flops) / seconds / 1e9
        return .init(
            "MiniLM train step (6 layers, H=384, T=64, B=16, AdamW)", Double(batch * length) / seconds, "tokens/s",
            note: reference.note(stepSeconds: seconds, gflops: gflops, referenceSeconds: referenceSeconds))
    }
}

/// One sgemm shape, [M, K]·[K, N], as the reference a train step's GFLOP/s is a fraction of. The step and its
/// reference are timed alternately (`BenchmarkClock.alternatingMedians`), so load on the shared machine slows both
/// alike instead of skewing the fraction.
struct SgemmReference {
    let m: Int, k: Int, n: Int
    private let a: Tensor, b: Tensor

    init(m: Int, k: Int, n: Int, rng: inout RandomGenerator) {
        (self.m, self.k, self.n) = (m, k, n)
        a = Tensor.uniform([m, k], using: &rng)
        b = Tensor.uniform([k, n], using: &rng)
    }

    var name: String { "sgemm \(m)×\(k)·\(k)×\(n)" }

    func run() { _ = a.matmul(b) }

    func gflops(seconds: Double) -> Double { 2 * Double(m * k * n) / seconds / 1e9 }

    /// "… ms/step, … GFLOP/s = …% of sgemm M×K·K×N (… GFLOP/s, timed alternately)".
    func note(stepSeconds: Double, gflops stepGflops: Double, referenceSeconds: Double) -> String {
        let reference = gflops(seconds: referenceSeconds)
        let figures = String(
            format: "%.1f ms/step, %.1f GFLOP/s = %.0f%%", stepSeconds * 1000, stepGflops, 100 * stepGflops / reference)
        return figures + " of \(name) (" + String(format: "%.0f", reference) + " GFLOP/s, timed alternately)"
    }
}
