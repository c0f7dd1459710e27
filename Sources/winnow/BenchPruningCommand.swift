import ArgumentParser
import Benchmarks
import DataPruning
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Runtime
import Tensors

/// `winnow bench pruning`: plain training speed and accuracy on an image dataset, and the time of GraNd.
struct BenchPruningCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pruning",
        abstract: "Seconds per epoch and test accuracy of plain training on images (Fashion-MNIST), and GraNd's cost.",
        discussion: """
            Trains --model with SGD (momentum 0.9, Nesterov, weight decay 5e-4) and a cosine schedule, printing each \
            epoch's time, loss and test accuracy. --grand N also times exact GraNd on N training samples with the \
            trained model and extrapolates to the whole split. --profile times forward, backward and the \
            optimizer step of one batch per layer type.
            """)

    @Option(help: "Dataset folder or archive (IDX, JSONL or CSV with train and test splits).")
    var data = "/usr/share/datasets/fashion-mnist"
    @Option(help: "small-cnn, resnet or mlp.") var model = "small-cnn"
    @Option(help: "SmallCNN channels (default 16,32); ResNet stage widths (16,32,64); MLP hidden widths (256,256).")
    var widths: String?
    @Option(help: "Epochs.") var epochs = 10
    @Option(help: "Only train this many epochs of the schedule (timing).") var stopAfter: Int?
    @Option(help: "SGD learning rate.") var learningRate: Float = 0.05
    @Option(help: "Batch size.") var batchSize = 128
    @Option(help: "Weight decay.") var weightDecay: Float = 5e-4
    @Option(help: "Random shift augmentation in pixels (0: none).") var shift = 0
    @Option(help: "Training samples used (default: all).") var limit: Int?
    @Option(help: "BLAS threads.") var threads = 2
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Time exact GraNd on this many samples after training (0: skip).") var grand = 0
    @Flag(help: "Time forward, backward and the step of one batch, and the SmallCNN's parts, instead of training.")
    var profile = false
    @Flag(help: "After plain training, time the same epochs of the data-pruning score stage (SAMA) and print the ratio.")
    var meta = false
    @Option(help: "--meta: base steps per meta step (the paper's 2).") var unroll = 2
    @Flag(help: "Print the result as one line of JSON (the progress lines go to standard error).") var json = false

    func validate() throws {
        guard ["small-cnn", "resnet", "mlp"].contains(model) else { throw ValidationError("--model: small-cnn, resnet or mlp") }
        guard epochs >= 1, batchSize >= 1, threads >= 1, grand >= 0, unroll >= 1, unroll <= 1_000_000 else {
            throw ValidationError("counts must be positive")
        }
        if json, profile { throw ValidationError("--json reports training runs; --profile prints a table only") }
    }

    /// A line for the reader: standard output, or standard error when the JSON line owns standard output.
    private func say(_ line: String) {
        if json { printError(line) } else { print(line) }
    }

    func run() throws {
        BLAS.setThreads(threads)
        let start = Date()
        let data = try ImageData.load(path: data)
        say(
            "loaded \(data.train.count) train / \(data.test.count) test images \(data.train.imageShape), "
                + "\(data.classCount) classes in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        let network = makeNetwork(data)
        var result = PruningBenchmarkResult(
            model: model, widths: modelSettings.resolvedWidths, parameters: network.parameterCount, blasThreads: threads, seed: seed,
            trainImages: limit.map { min($0, data.train.count) } ?? data.train.count)
        say("\(model) \(modelSettings.resolvedWidths): \(network.parameterCount) parameters, BLAS threads \(threads)")
        let settings = PlainTrainingSettings(
            epochs: epochs, batchSize: batchSize,
            optimizer: .sgd(learningRate: learningRate, momentum: 0.9, nesterov: true, weightDecay: weightDecay),
            schedule: .cosine(), seed: seed, augmentShift: shift)
        if profile {
            try Self.profile(network, data: data.train, settings: settings)
            return
        }
        let trainer = try PlainTrainer(model: network, settings: settings)
        let subset = limit.map { Array(0..<min($0, data.train.count)) }
        // Process CPU time as well as wall time: on a shared machine the wall time depends on the other load.
        var cpuAtStart = Self.processCPUSeconds()
        var plainSeconds: [Double] = []
        var flopsAtStart = FLOPCounter.total, plainFLOPs: [Int] = []
        try trainer.train(
            on: data.train, subset: subset, stopAfter: stopAfter,
            onEpoch: { report in
                plainSeconds.append(report.seconds)
                plainFLOPs.append(FLOPCounter.total - flopsAtStart)
                let cpu = Self.processCPUSeconds() - cpuAtStart
                let evalStart = Date()
                let accuracy = Evaluation.accuracy(network, on: data.test)
                result.epochs.append(
                    .init(
                        epoch: report.epoch + 1, seconds: report.seconds, cpuSeconds: cpu, meanLoss: Double(report.meanLoss),
                        trainAccuracy: Double(report.trainAccuracy), testAccuracy: accuracy, gflop: Double(plainFLOPs.last!) / 1e9))
                say(
                    String(
                        format: "epoch %2d  %.1f s (%.1f CPU s)  loss %.4f  train acc %.4f  test acc %.4f  (eval %.1f s)  "
                            + "%.2f GFLOP, %.1f GFLOP/s",
                        report.epoch + 1, report.seconds, cpu, report.meanLoss, report.trainAccuracy, accuracy,
                        Date().timeIntervalSince(evalStart), Double(plainFLOPs.last!) / 1e9,
                        Double(plainFLOPs.last!) / 1e9 / report.seconds))
                cpuAtStart = Self.processCPUSeconds()
                flopsAtStart = FLOPCounter.total
            })
        if meta {
            result.meta = try timeMeta(data: data, settings: settings, subset: subset, plain: (plainSeconds, plainFLOPs))
        }
        if grand > 0 {
            let sample = data.train.subset(Array(0..<min(grand, data.train.count)))
            let grandStart = Date()
            let norms = GraNd.norms(network, split: sample)
            let seconds = Date().timeIntervalSince(grandStart)
            result.grandMillisecondsPerSample = 1000 * seconds / Double(sample.count)
            say(
                String(
                    format: "GraNd (exact, %@): %d samples in %.1f s, %.2f ms/sample, %.0f s for %d samples; mean norm %.4f",
                    network is MLP ? "outer products" : "per-sample backward", sample.count, seconds,
                    1000 * seconds / Double(sample.count), seconds / Double(sample.count) * Double(data.train.count),
                    data.train.count, norms.reduce(0, +) / Double(norms.count)))
        }
        if json { print(try encodeJSON(result)) }
    }

    /// The model the options describe (`PruningRecipe.ModelSettings`, as recipes build it), initialised from `--seed`.
    private var modelSettings: PruningRecipe.ModelSettings {
        var settings = PruningRecipe.ModelSettings()
        settings.kind = model == "mlp" ? .mlp : model == "resnet" ? .resnet : .smallCNN
        settings.widths = widths?.split(separator: ",").compactMap { Int($0) } ?? []
        return settings
    }

    private func makeNetwork(_ data: ImageData) -> any ImageClassifier {
        modelSettings.make(imageShape: data.train.imageShape, classes: data.classCount, seed: seed)
    }

    /// Times the score stage's program (`MetaScoringProgram`, SAMA, unroll `--unroll`, meta batch 128, (1/N) Σ w·ℓ) over
    /// the same epochs as the plain run, on a fresh model with the same seed, and prints the median epoch ratio, in
    /// seconds and in matrix-product operations (`FLOPCounter`, split into base and meta steps).
    private func timeMeta(
        data: ImageData, settings: PlainTrainingSettings, subset: [Int]?, plain: (seconds: [Double], flops: [Int])
    ) throws -> PruningBenchmarkResult.Meta? {
        let train = subset.map { data.train.subset($0) } ?? data.train
        var metaSettings = MetaSettings()
        metaSettings.unroll = unroll
        metaSettings.batchSize = 128
        metaSettings.normalization = .mean
        let split = StepFLOPs()
        func run<Model: ImageClassifier>(_ model: Model) throws -> [Double] {
            guard let average = makeNetwork(data) as? Model else { return [] }
            let program = try MetaScoringProgram.make(
                model: model, averageModel: average, train: train, classCount: data.classCount, training: settings,
                meta: metaSettings, scoring: PruningRecipe.ScoringSettings(), seed: seed)
            let engine = Engine(program: program, configuration: metaSettings.engineConfiguration(seed: seed, for: type(of: program)))
            MetaScoringProgram.updateAverageAfterEveryStep(engine)
            split.attach(to: engine)
            let steps = MetaScoringProgram.stepsPerEpoch(train: train, batchSize: settings.batchSize)
            var seconds: [Double] = []
            for epoch in 1...(stopAfter ?? epochs) {
                let start = Date()
                try engine.run(steps: epoch * steps)
                seconds.append(Date().timeIntervalSince(start))
                say(String(format: "meta epoch %2d  %.1f s  (%d meta steps so far)", epoch, seconds.last!, engine.metaStep))
            }
            return seconds
        }
        let metaSeconds = try run(makeNetwork(data))
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        guard !metaSeconds.isEmpty, !plain.seconds.isEmpty, !plain.flops.isEmpty else { return nil }
        say(
            String(
                format: "median epoch: plain %.2f s, meta (SAMA, unroll %d) %.2f s: %.2f× a plain epoch",
                median(plain.seconds), unroll, median(metaSeconds), median(metaSeconds) / median(plain.seconds)))
        let plainEpoch = Double(plain.flops.reduce(0, +)) / Double(plain.flops.count)
        let metaEpochs = Double(metaSeconds.count)
        let (base, meta) = (Double(split.baseFLOPs) / metaEpochs, Double(split.metaFLOPs) / metaEpochs)
        say(
            String(
                format: "matrix products per epoch: plain %.2f GFLOP; meta %.2f GFLOP = %.2f× (base steps %.2f×, meta steps %.2f×; "
                    + "a base step %.1f MFLOP, a meta step %.1f MFLOP)",
                plainEpoch / 1e9, (base + meta) / 1e9, (base + meta) / plainEpoch, base / plainEpoch, meta / plainEpoch,
                split.perBaseStep / 1e6, (split.perMetaStep ?? 0) / 1e6))
        return .init(
            unroll: unroll, epochSeconds: metaSeconds, medianRatio: median(metaSeconds) / median(plain.seconds),
            flopRatio: (base + meta) / plainEpoch)
    }

    /// User plus system CPU seconds of this process (all threads).
    private static func processCPUSeconds() -> Double {
        Double(clock()) / Double(CLOCKS_PER_SEC)
    }

    /// Milliseconds per call of `body`, the median of `repeats` after one warm-up call.
    private static func milliseconds(_ repeats: Int = 10, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.sorted()[times.count / 2]
    }

    /// Where a training step's time goes: forward, backward and step of a whole batch, then each part of a SmallCNN
    /// (forward and forward+backward), so the limit can be named.
    private static func profile(_ network: any ImageClassifier, data: ImageSplit, settings: PlainTrainingSettings) throws {
        let (x, labels) = data.batch(Array(0..<settings.batchSize))
        let context = ForwardContext(training: true, updatesRunningStatistics: false)
        let parameters = network.namedParameters()
        let optimizer = SGD(learningRate: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4)
        let forward = milliseconds { _ = Loss.meanCrossEntropy(network(x, context), labels: labels) }
        let forwardBackward = milliseconds {
            let loss = Loss.meanCrossEntropy(network(x, context), labels: labels)
            _ = Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor))
        }
        let gradients = Autodiff.gradients(of: Loss.meanCrossEntropy(network(x, context), labels: labels), wrt: parameters.map(\.tensor))
        let step = milliseconds { optimizer.step(parameters.map { (key: $0.key, tensor: $0.tensor) }, gradients: gradients) }
        print(
            String(
                format: "batch %d: forward %.1f ms, backward %.1f ms, optimizer step %.2f ms; %.1f s per epoch of %d batches",
                settings.batchSize, forward, forwardBackward - forward, step,
                (forwardBackward + step) * Double(data.count / settings.batchSize) / 1000, data.count / settings.batchSize))
        guard let cnn = network as? SmallCNN else { return }
        func part(_ name: String, _ input: Tensor, _ body: (Tensor) -> Tensor) {
            let leaf = Tensor(shape: input.shape, storage: input.scalars, requiresGrad: true)
            let f = milliseconds { _ = body(leaf) }
            let fb = milliseconds {
                let y = body(leaf)
                _ = Autodiff.gradients(of: y, wrt: [leaf], seed: Tensor(shape: y.shape, storage: [Float](repeating: 1, count: y.count)))
            }
            print(
                String(
                    format: "  %-34@ forward %7.2f ms   backward %7.2f ms   %@", name as NSString, f, fb - f,
                    "\(input.shape) → \(body(leaf).shape)"))
        }
        let a1 = withoutGrad { cnn.conv1(x) }
        let h1 = withoutGrad { cnn.norm1(a1, context).relu().maxPool2d(kernel: 2) }
        let a2 = withoutGrad { cnn.conv2(h1) }
        let window = Window2D(kernel: 3, padding: 1)
        part("conv1 (im2col + sgemm + permute)", x) { cnn.conv1($0) }
        part("  im2col 3×3", x) { $0.im2col(window) }
        part("  sgemm", x.im2col(window)) {
            $0.matmul(cnn.conv1.weight.detached().reshaped([cnn.conv1.weight.shape[0], -1]), transposeB: true)
        }
        part("  reshape + permute NHWC → NCHW", a1.permuted([0, 2, 3, 1])) { $0.permuted([0, 3, 1, 2]) }
        part("bn1 (training)", a1) { cnn.norm1($0, context) }
        part("relu", a1) { $0.relu() }
        part("maxpool 2", a1) { $0.maxPool2d(kernel: 2) }
        part("conv2", h1) { cnn.conv2($0) }
        part("  im2col 3×3", h1) { $0.im2col(window) }
        part("bn2 (training)", a2) { cnn.norm2($0, context) }
        part("head", a2.relu().maxPool2d(kernel: 2).flattenedBatch()) { cnn.head($0) }
    }
}

/// What `winnow bench pruning --json` prints: the plain training run per epoch and, with `--meta` and `--grand`, the
/// score stage's cost against it and exact GraNd's cost per sample.
struct PruningBenchmarkResult: Codable {
    /// One epoch of plain training.
    struct Epoch: Codable {
        var epoch: Int
        var seconds: Double
        /// Process CPU seconds (all threads) over the epoch.
        var cpuSeconds: Double
        var meanLoss: Double
        var trainAccuracy: Double
        var testAccuracy: Double
        /// Counted matrix-product operations (`FLOPCounter`), 10⁹.
        var gflop: Double
    }

    /// The score stage's epochs (SAMA) against the plain ones.
    struct Meta: Codable {
        var unroll: Int
        var epochSeconds: [Double]
        /// Median meta epoch over median plain epoch, in seconds.
        var medianRatio: Double
        /// Counted operations of a meta epoch over a plain one.
        var flopRatio: Double
    }

    var model: String
    var widths: [Int]
    var parameters: Int
    var blasThreads: Int
    var seed: UInt64
    var trainImages: Int
    var epochs: [Epoch] = []
    var meta: Meta?
    var grandMillisecondsPerSample: Double?
}
