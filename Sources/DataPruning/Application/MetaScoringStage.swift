import Distributed
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import ResultStore
import Runtime
import Tensors

/// The score stage: meta-learns a Meta-Weight-Net w = σ(MLP([ℓ, u])) while training the base model on the
/// weighted loss (`UncertaintyReweightingProgram`, docs/ALGORITHMS.md §8), with the run's optimizer and schedule
/// at the base and any engine method. Each epoch the mean weight each sample got in the base steps that drew it
/// is recorded as that epoch's weights; the score (recorded under the method's name, `sama` by default) is the
/// mean of those over the last `meta.last_epochs` epochs. Higher weight = kept.
struct MetaScoringStage {
    let config: DataPruningApplication.Config
    let context: RunContext

    func run(data: ImageData) throws -> [String: Double] {
        let model = config.model.make(imageShape: data.train.imageShape, classes: data.classCount, seed: context.seed &+ 21)
        return try score(model, data: data)
    }

    private func score<Model: ImageClassifier>(_ model: Model, data: ImageData) throws -> [String: Double] {
        // The average starts as a copy of the live model (`ModelAverage` copies the values in).
        guard let averageModel = config.model.make(imageShape: data.train.imageShape, classes: data.classCount, seed: 0) as? Model
        else { preconditionFailure("ModelSettings.make returned two model types for one setting") }
        let train = data.train, epochs = config.scoringEpochs
        var plain = config.training.plain(seed: context.seed)
        plain.epochs = epochs
        try Sharding.checkEqualShards(batchSize: plain.batchSize, ranks: context.size)
        let stepsPerEpoch = MetaScoringProgram.stepsPerEpoch(train: train, batchSize: plain.batchSize)
        let program = try MetaScoringProgram.make(
            model: model, averageModel: averageModel, train: train, classCount: data.classCount, training: plain,
            meta: config.meta.settings, scoring: config.meta.extra, seed: context.seed, rank: context.rank, worldSize: context.size)
        let loop = BilevelRun(
            program: program,
            configuration: config.meta.settings.engineConfiguration(seed: context.seed &+ 24, for: type(of: program)),
            context: context, epochs: epochs, stepsPerEpoch: stepsPerEpoch)
        MetaScoringProgram.updateAverageAfterEveryStep(loop.engine)
        var weights = SampleMeans(count: train.count)
        loop.engine.observe { event in
            if case .baseStep = event, let (indices, values) = program.lastWeights { weights.add(indices: indices, values: values) }
        }
        var epochStart = Date()
        try loop.run(title: "score (\(config.meta.method.rawValue))") { epoch in
            let seconds = Date().timeIntervalSince(epochStart)
            var metrics = ["epoch_seconds": seconds, "meta_steps": Double(loop.engine.metaStep)]
            metrics["test_accuracy"] = try accuracy(program.model, on: data.test)
            metrics["average_test_accuracy"] = try accuracy(program.average.average, on: data.test)
            if let all = try weights.gather(context) {
                let values = all.map(\.value)
                try context.recorder.recordWeights(values, step: epoch, sampleIDs: all.map(\.index))
                let mean = values.reduce(0.0) { $0 + Double($1) } / Double(max(values.count, 1))
                metrics["weight_mean"] = mean
                metrics["weight_sd"] =
                    (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(values.count, 1)))
                    .squareRoot()
            }
            weights.reset()
            epochStart = Date()
            return metrics
        }
        // Samples no base batch drew in the last K epochs (the sampler drops a partial batch) get their current weight.
        let fallback = try context.gatherRows(count: train.count) { program.currentWeights(rows: $0) }
        guard context.isRoot, let fallback else { return [:] }
        let score = try lastEpochsMean(epochs: epochs, count: train.count, fallback: fallback)
        try context.recorder.recordScores(score, name: config.metaScoreName, step: epochs)
        context.progress.log(
            "score: '\(config.metaScoreName)' = mean weight over epochs \(max(1, epochs - config.meta.lastEpochs + 1))…\(epochs), "
                + "recorded at step \(epochs)")
        return try Self.summary(store: context.recorder.store, run: context.runID)
    }

    /// The score stage's figures for the run's summary, from its recorded epochs (so a run resumed after the
    /// stage reports them too): meta steps taken and the median seconds of a meta-training epoch.
    static func summary(store: ResultStore, run: Int64) throws -> [String: Double] {
        var summary: [String: Double] = [:]
        if let steps = try store.metrics(run: run, name: "meta_steps").last?.value { summary["meta_steps"] = steps }
        let seconds = try store.metrics(run: run, name: "epoch_seconds").compactMap(\.value).sorted()
        if !seconds.isEmpty { summary["meta_epoch_seconds"] = seconds[seconds.count / 2] }
        return summary
    }

    /// Top-1 accuracy of `model` on `split`, each rank scoring a block.
    private func accuracy(_ model: any ImageClassifier, on split: ImageSplit) throws -> Double {
        let sums = try context.shardedSum(count: split.count) { range in
            guard !range.isEmpty else { return [0, 0] }
            let logits = Evaluation.logits(model, on: split, subset: Array(range))
            return [Loss.accuracy(logits, labels: range.map { split.labels[$0] }) * Double(range.count), Double(range.count)]
        }
        return sums[1] > 0 ? sums[0] / sums[1] : 0
    }

    /// Per sample, the mean of its recorded per-epoch weights over the last `meta.last_epochs` epochs (read back
    /// from the store, so a resumed run counts the epochs before its restart).
    private func lastEpochsMean(epochs: Int, count: Int, fallback: [Float]) throws -> [Double] {
        var sums = [Double](repeating: 0, count: count), seen = [Int](repeating: 0, count: count)
        let store = context.recorder.store
        for epoch in max(1, epochs - config.meta.lastEpochs + 1)...epochs {
            for row in try store.weights(run: context.runID, step: epoch) where row.sampleID < count {
                sums[row.sampleID] += row.weight
                seen[row.sampleID] += 1
            }
        }
        return (0..<count).map { seen[$0] > 0 ? sums[$0] / Double(seen[$0]) : Double(fallback[$0]) }
    }
}

/// Builds the score stage's bilevel program; `winnow bench pruning --meta` times the same one.
public enum MetaScoringProgram {
    /// Base steps per epoch (global batches; the last partial batch is dropped).
    public static func stepsPerEpoch(train: ImageSplit, batchSize: Int) -> Int {
        max(1, train.count / min(batchSize, train.count))
    }

    /// The program: `model` trained with `training`'s optimizer and schedule, its moving average in `averageModel`,
    /// a fresh weight net 2 → `scoring.hiddenWidth` → 1 and Adam at `meta.learningRate`.
    public static func make<Model: ImageClassifier>(
        model: Model, averageModel: Model, train: ImageSplit, classCount: Int, training: PlainTrainingSettings,
        meta: MetaSettings, scoring: PruningRecipe.ScoringSettings, seed: UInt64, rank: Int = 0, worldSize: Int = 1
    ) throws -> UncertaintyReweightingProgram<Model> {
        let steps = stepsPerEpoch(train: train, batchSize: training.batchSize)
        var rng = RandomGenerator(seed: seed &+ 22)
        return UncertaintyReweightingProgram(
            model: model, averageModel: averageModel, averageDecay: scoring.averageDecay,
            weightNet: MetaWeightNet(inputs: 2, hidden: scoring.hiddenWidth, rng: &rng),
            data: DenseClassificationData(features: train.images, labels: train.labels, classCount: classCount),
            baseOptimizer: training.makeOptimizer(), baseSchedule: training.learningRateSchedule(stepsPerEpoch: steps),
            metaOptimizer: Adam(learningRate: meta.learningRate), batchSize: min(training.batchSize, train.count),
            metaBatchSize: min(meta.batchSize, train.count), normalization: meta.normalization,
            seed: seed &+ 23, rank: rank, worldSize: worldSize
        ) { model, x, forward in model(x, forward) }
    }

    /// Updates the program's moving average after every base step of `engine` (every optimizer step).
    public static func updateAverageAfterEveryStep<Model>(_ engine: Engine<UncertaintyReweightingProgram<Model>>) {
        let program = engine.program
        engine.observe { event in if case .baseStep = event { program.updateAverage() } }
    }
}
