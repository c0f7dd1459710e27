import Foundation
import NeuralNetworks
import Tensors

/// GraNd: the exact norm of each sample's loss gradient over all parameters, ‖∇θ ℓ(f(xᵢ), yᵢ)‖₂, with the model
/// in evaluation mode (no dropout; BatchNorm uses its running statistics), so each sample's gradient is that of
/// the model as a function of the sample alone.
public enum GraNd {
    /// Exact per-sample gradient norms of an MLP from one batched backward: a linear layer's per-sample weight
    /// gradient is the outer product δᵢ aᵢᵀ of the gradient at its output and its input, so its squared norm is
    /// ‖δᵢ‖²·‖aᵢ‖², plus ‖δᵢ‖² for the bias.
    public static func mlp(_ model: MLP, images: Tensor, labels: [Int]) -> [Double] {
        let context = ForwardContext.evaluation()
        var h = images.rank > 2 ? images.flattenedBatch() : images
        var inputs: [Tensor] = [], outputs: [Tensor] = []
        for (index, layer) in model.layers.enumerated() {
            let z = layer(h)
            inputs.append(h)
            outputs.append(z)
            if index < model.layers.count - 1 { h = model.dropout(model.activation(z), context) }
        }
        // Samples are independent in evaluation mode, so the gradient of the summed loss at row i of each
        // layer's output is ∂ℓᵢ/∂zᵢ.
        let loss = Loss.crossEntropy(outputs[outputs.count - 1], labels: labels).sum()
        let deltas = Autodiff.gradients(of: loss, wrt: outputs)
        var squares = [Double](repeating: 0, count: labels.count)
        for (layer, (input, delta)) in zip(model.layers, zip(inputs, deltas)) {
            let inputNorms = rowSquaredNorms(input), deltaNorms = rowSquaredNorms(delta)
            for i in squares.indices { squares[i] += deltaNorms[i] * (inputNorms[i] + (layer.bias == nil ? 0 : 1)) }
        }
        return squares.map { $0.squareRoot() }
    }

    /// Exact per-sample gradient norms of any classifier: one forward and backward per sample (batch of one).
    /// Slow but exact for every layer type; `onProgress` receives the number of samples done every 1000.
    public static func perSample(
        _ model: any ImageClassifier, images: Tensor, labels: [Int],
        onProgress: ((Int) -> Void)? = nil
    ) -> [Double] {
        let context = ForwardContext.evaluation()
        let parameters = model.parameters()
        return labels.indices.map { i in
            let x = withoutGrad { images.indexSelect([i]) }
            let loss = Loss.crossEntropy(model(x, context), labels: [labels[i]]).sum()
            let gradients = Autodiff.gradients(of: loss, wrt: parameters)
            if (i + 1) % 1000 == 0 { onProgress?(i + 1) }
            return gradients.reduce(0.0) { $0 + squaredNorm($1) }.squareRoot()
        }
    }

    /// The exact norms for `model`: the outer-product form for an MLP, per-sample backward otherwise, in batches
    /// of `batchSize` samples.
    public static func norms(
        _ model: any ImageClassifier, split: ImageSplit, batchSize: Int = 500,
        onProgress: ((Int) -> Void)? = nil
    ) -> [Double] {
        var result: [Double] = []
        result.reserveCapacity(split.count)
        for start in stride(from: 0, to: split.count, by: batchSize) {
            let (x, labels) = split.batch(Array(start..<min(start + batchSize, split.count)))
            if let network = model as? MLP {
                result += mlp(network, images: x, labels: labels)
            } else {
                result += perSample(model, images: x, labels: labels)
            }
            onProgress?(result.count)
        }
        return result
    }

    private static func rowSquaredNorms(_ t: Tensor) -> [Double] {
        let rows = t.shape[0], width = t.count / max(rows, 1)
        return t.withUnsafeBufferPointer { x in
            (0..<rows).map { r in
                var total = 0.0
                for k in 0..<width { let v = Double(x[r * width + k]); total += v * v }
                return total
            }
        }
    }

    private static func squaredNorm(_ t: Tensor) -> Double {
        t.withUnsafeBufferPointer { x in x.reduce(0.0) { $0 + Double($1) * Double($1) } }
    }
}

/// Scores from models trained briefly (or not at all) and averaged over seeds: EL2N and GraNd.
public struct EarlyTrainingScores {
    /// The training run each seed's model follows (its schedule spans `training.epochs`).
    public var training: PlainTrainingSettings
    /// Epochs actually trained before scoring (0: at initialisation).
    public var scoringEpoch: Int
    /// One model per seed; the seed also seeds its batches.
    public var seeds: [UInt64]

    public init(training: PlainTrainingSettings, scoringEpoch: Int, seeds: [UInt64]) {
        self.training = training
        self.scoringEpoch = scoringEpoch
        self.seeds = seeds
    }

    /// EL2N and GraNd (when `gradientNorms`) of every sample of `split`, each the mean over seeds. `makeModel`
    /// builds a fresh model from a seed.
    public func scores(
        on split: ImageSplit, gradientNorms: Bool = true, makeModel: (UInt64) -> any ImageClassifier,
        onSeed: ((UInt64) -> Void)? = nil
    ) throws -> (el2n: [Double], grand: [Double]?) {
        guard !seeds.isEmpty else { throw PlainTrainingError.invalidSetting("early-training scores need at least one seed") }
        guard scoringEpoch >= 0, scoringEpoch <= training.epochs else {
            throw PlainTrainingError.invalidSetting("scoring epoch must be 0…\(training.epochs), got \(scoringEpoch)")
        }
        var el2n = [Double](repeating: 0, count: split.count)
        var grand = gradientNorms ? [Double](repeating: 0, count: split.count) : nil
        for seed in seeds {
            let model = makeModel(seed)
            var settings = training
            settings.seed = seed
            if scoringEpoch > 0 { try PlainTrainer(model: model, settings: settings).train(on: split, stopAfter: scoringEpoch) }
            let values = LogitScores.el2n(logits: Evaluation.logits(model, on: split), labels: split.labels)
            for i in el2n.indices { el2n[i] += values[i] / Double(seeds.count) }
            if grand != nil {
                let norms = GraNd.norms(model, split: split)
                for i in norms.indices { grand![i] += norms[i] / Double(seeds.count) }
            }
            onSeed?(seed)
        }
        return (el2n, grand)
    }
}
