import Foundation
import MetaLearning
import NeuralNetworks
import NoisyLabels
import Optimizers
import Runtime
import Tensors

/// `winnow bench meta`: one method on the synthetic noisy-label problem (10 Gaussian classes in 784
/// dimensions, 20,000 training samples with 40% flipped labels, 1,000 clean meta samples, 5,000 test).
/// One configuration per process, so peak memory is the method's own.
public enum MetaBenchmark {
    public struct Configuration: Codable, Sendable {
        /// The method and its parameters, unroll, warm-up, normalisation and the meta batch size, as a recipe's
        /// `meta:` section holds them (`MetaBenchmark.defaultMeta` unless set).
        public var meta: MetaSettings
        public var hidden: [Int] = [512, 512]
        public var steps: Int = 200
        public var batchSize: Int = 100
        public var seed: UInt64 = 0
        /// Also report test accuracy and the mean weights of clean and corrupted samples.
        public var measureQuality = false
        /// `Engine.Configuration.metaGradientBlockElements` (nil: the engine's default).
        public var metaGradientBlockElements: Int?

        public init(meta: MetaSettings = MetaBenchmark.defaultMeta) { self.meta = meta }
    }

    /// The benchmark's meta settings unless told otherwise (`MetaSettings.benchmark`), weight-sum normalisation.
    public static var defaultMeta: MetaSettings { .benchmark(normalization: .weightSum) }

    public struct Result: Codable, Sendable {
        public var method: String
        public var hidden: [Int]
        public var parameters: Int
        public var unroll: Int
        public var blasThreads: Int
        public var steps: Int
        /// The engine's `metaGradientBlockElements` in this run.
        public var metaGradientBlockElements: Int
        public var baseSamplesPerSecond: Double
        public var metaStepMilliseconds: Double?
        public var forwardMilliseconds: Double
        public var forwardBackwardMilliseconds: Double
        public var peakResidentMiB: Double
        /// Peak resident size during training minus the resident size before the first step (data and model
        /// already built, free heap memory returned to the system first):
        /// the memory the method's steps add.
        public var trainingMiB: Double
        public var testAccuracy: Double?
        public var cleanWeight: Double?
        public var corruptedWeight: Double?
        /// Matrix-product operations (`FLOPCounter`) of a base step and of a meta step, in millions.
        public var baseStepMegaFLOPs: Double = 0
        public var metaStepMegaFLOPs: Double?
        /// Counted operations of the whole run over its time, and what sgemm reaches on the model's largest layer
        /// product ([batch, width]·[width, width], same threads; the fastest of 15) in this process: their ratio is
        /// the fraction of sgemm the steps achieve.
        public var achievedGFLOPS: Double = 0
        public var sgemmGFLOPS: Double = 0
        /// Wall-clock seconds of the timed steps (base and meta), the x of the accuracy-vs-time chart.
        public var trainingSeconds: Double = 0
        /// Milliseconds per base step in each phase (`StepPhase` names, meta steps spread over the base steps), and
        /// "other": the rest of the step (batch gathering, the vector work of a meta step such as θ ± εv).
        public var phaseMillisecondsPerStep: [String: Double] = [:]
    }

    /// The problem, the base model and the reweighting program as every run of configuration `c` starts.
    static func makeProgram(_ c: Configuration) -> (data: SyntheticNoisyLabels, model: MLP, program: DenseReweightingProgram) {
        syntheticProgram(hidden: c.hidden, batchSize: c.batchSize, meta: c.meta, seed: c.seed)
    }

    /// The synthetic noisy-label problem and a reweighting program on an MLP with these hidden widths (Adam 1e-3
    /// at both levels; uniform weights for `finetune`), as `bench meta` and `bench ddp --model mlp` start it.
    static func syntheticProgram(
        hidden: [Int], batchSize: Int, meta: MetaSettings, seed: UInt64
    )
        -> (data: SyntheticNoisyLabels, model: MLP, program: DenseReweightingProgram)
    {
        let data = SyntheticNoisyLabels(seed: seed)
        var rng = RandomGenerator(seed: seed &+ 1)
        let model = MLP(widths: [784] + hidden + [10], rng: &rng)
        let program = DenseReweightingProgram(
            model: model, weightNet: MetaWeightNet(rng: &rng), train: data.train, clean: data.meta,
            baseOptimizer: Adam(learningRate: 1e-3), metaOptimizer: Adam(learningRate: 1e-3),
            batchSize: batchSize, metaBatchSize: meta.batchSize, normalization: meta.normalization, seed: seed &+ 2)
        program.uniformWeights = !meta.learnsMeta
        return (data, model, program)
    }

    /// Writes what a run of configuration `c` starts from into `directory`, as raw little-endian float32 files,
    /// so another implementation can replay it exactly (`scripts/analysis/first_order_reweighting.py
    /// --from-dump`): `trainX` [N, 784], `trainY`, `corrupted` (1 = flipped), `metaX`, `metaY`, `testX`, `testY`,
    /// `theta.<key>` and `lambda.<key>` (the initial base model and weight net, weights [out, in]), and
    /// `batches` / `metaBatches`: the sample indices of the first `steps` base and meta batches, in order.
    /// Returns the names of the files written; when a write fails, the files already written are removed.
    public static func dumpProblem(_ c: Configuration, steps: Int, to directory: URL) throws -> [String] {
        let (data, model, program) = makeProgram(c)
        var written: [String] = []
        func write(_ name: String, _ values: [Float]) throws {
            let url = directory.appendingPathComponent("\(name).f32")
            do {
                try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: url, options: .atomic)
            } catch {
                for file in written { try? FileManager.default.removeItem(at: directory.appendingPathComponent(file)) }
                throw ApplicationError.unwritable(path: url.path, reason: error.localizedDescription)
            }
            written.append(url.lastPathComponent)
        }
        try write("trainX", data.train.features.scalars)
        try write("trainY", data.train.labels.map(Float.init))
        try write("corrupted", data.corrupted.map { $0 ? 1 : 0 })
        try write("metaX", data.meta.features.scalars)
        try write("metaY", data.meta.labels.map(Float.init))
        try write("testX", data.test.features.scalars)
        try write("testY", data.test.labels.map(Float.init))
        for (key, tensor) in model.namedParameters() { try write("theta.\(key)", tensor.scalars) }
        for (key, tensor) in program.weightNet.namedParameters() { try write("lambda.\(key)", tensor.scalars) }
        var train = program.batches.train, meta = program.batches.meta
        try write("batches", (0..<steps).flatMap { _ in train.next() }.map(Float.init))
        try write("metaBatches", (0..<steps).flatMap { _ in meta.next() }.map(Float.init))
        return written
    }

    public static func run(_ c: Configuration) throws -> Result {
        let (data, model, program) = makeProgram(c)
        var engineConfiguration = c.meta.engineConfiguration(seed: c.seed &+ 3, for: DenseReweightingProgram.self)
        if let block = c.metaGradientBlockElements { engineConfiguration.metaGradientBlockElements = block }
        let engine = Engine(program: program, configuration: engineConfiguration)

        // The cost of the passes every method is made of, on this model and batch size.
        let (x, labels) = data.train.rows(Array(0..<c.batchSize))
        let parameters = model.parameters()
        let forward = BenchmarkClock.median(repeats: 9) { _ = withoutGrad { model(x, .evaluation()) } }
        let forwardBackward = BenchmarkClock.median(repeats: 9) {
            _ = Autodiff.gradients(of: Loss.meanCrossEntropy(model(x, .evaluation()), labels: labels), wrt: parameters)
        }

        let width = c.hidden.max() ?? 784
        let sgemmA = Tensor(repeating: 0.5, shape: [c.batchSize, width]), sgemmB = Tensor(repeating: 0.01, shape: [width, width])
        let sgemmSeconds = BenchmarkClock.fastest(repeats: 15) { _ = sgemmA.matmul(sgemmB) }

        let split = StepFLOPs()
        split.attach(to: engine)
        BenchmarkClock.startMemoryWindow()
        let residentBefore = BenchmarkClock.currentResidentMiB
        let start = DispatchTime.now().uptimeNanoseconds
        let flops = try FLOPCounter.measure { try engine.run(steps: c.steps) }.flops
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var result = Result(
            method: c.meta.method.rawValue, hidden: c.hidden, parameters: model.parameterCount, unroll: c.meta.unroll,
            blasThreads: BLAS.threads, steps: c.steps,
            metaGradientBlockElements: engineConfiguration.metaGradientBlockElements,
            baseSamplesPerSecond: Double(c.steps * c.batchSize) / total,
            metaStepMilliseconds: engine.metaStep > 0 ? engine.metaSeconds / Double(engine.metaStep) * 1000 : nil,
            forwardMilliseconds: forward * 1000, forwardBackwardMilliseconds: forwardBackward * 1000,
            peakResidentMiB: BenchmarkClock.peakResidentMiB,
            trainingMiB: BenchmarkClock.windowPeakResidentMiB - residentBefore)
        result.baseStepMegaFLOPs = split.perBaseStep / 1e6
        result.metaStepMegaFLOPs = split.perMetaStep.map { $0 / 1e6 }
        result.achievedGFLOPS = Double(flops) / total / 1e9
        result.sgemmGFLOPS = 2 * Double(c.batchSize * width * width) / sgemmSeconds / 1e9
        result.trainingSeconds = total
        result.phaseMillisecondsPerStep = PhaseBreakdown.millisecondsPerStep(
            engine.phases.seconds, over: c.steps, totalSeconds: total)
        if c.measureQuality {
            let (clean, corrupted) = program.meanWeights(flagged: data.corrupted)
            result.testAccuracy = program.accuracy(on: data.test)
            result.cleanWeight = clean
            result.corruptedWeight = corrupted
        }
        return result
    }
}
