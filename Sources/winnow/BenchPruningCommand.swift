import ArgumentParser
import DataPruning
import Foundation
import NeuralNetworks
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
    @Option(help: "SmallCNN channels, e.g. 16,32; ResNet stage widths, e.g. 16,32,64; MLP hidden widths.")
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

    func validate() throws {
        guard ["small-cnn", "resnet", "mlp"].contains(model) else { throw ValidationError("--model: small-cnn, resnet or mlp") }
        guard epochs >= 1, batchSize >= 1, threads >= 1, grand >= 0 else { throw ValidationError("counts must be positive") }
    }

    func run() throws {
        BLAS.setThreads(threads)
        let start = Date()
        let data = try ImageData.load(path: data)
        print("loaded \(data.train.count) train / \(data.test.count) test images \(data.train.imageShape), "
              + "\(data.classCount) classes in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        var rng = RandomGenerator(seed: seed)
        let widths = self.widths?.split(separator: ",").compactMap { Int($0) }
        let (c, side) = (data.train.imageShape[0], data.train.imageShape[1])
        let network: any ImageClassifier
        switch model {
        case "resnet":
            network = ResNet(inChannels: c, widths: widths ?? [16, 32, 64], classes: data.classCount, rng: &rng)
        case "mlp":
            network = MLP(widths: [c * side * side] + (widths ?? [512, 256]) + [data.classCount], rng: &rng)
        default:
            let w = widths ?? [16, 32]
            network = SmallCNN(inChannels: c, imageSize: side, channels: (w[0], w[w.count > 1 ? 1 : 0]), classes: data.classCount,
                               rng: &rng)
        }
        print("\(model) \(widths.map { "\($0)" } ?? "default widths"): \(network.parameterCount) parameters, BLAS threads \(threads)")
        let settings = PlainTrainingSettings(
            epochs: epochs, batchSize: batchSize,
            optimizer: .sgd(learningRate: learningRate, momentum: 0.9, nesterov: true, weightDecay: weightDecay),
            schedule: .cosine(), seed: seed, augmentShift: shift)
        let trainer = try PlainTrainer(model: network, settings: settings)
        let subset = limit.map { Array(0..<min($0, data.train.count)) }
        try trainer.train(on: data.train, subset: subset, stopAfter: stopAfter, onEpoch: { report in
            let evalStart = Date()
            let accuracy = Evaluation.accuracy(network, on: data.test)
            print(String(format: "epoch %2d  %.1f s  loss %.4f  train acc %.4f  test acc %.4f  (eval %.1f s)", report.epoch + 1,
                         report.seconds, report.meanLoss, report.trainAccuracy, accuracy, Date().timeIntervalSince(evalStart)))
        })
        if grand > 0 {
            let sample = data.train.subset(Array(0..<min(grand, data.train.count)))
            let grandStart = Date()
            let norms = GraNd.norms(network, split: sample)
            let seconds = Date().timeIntervalSince(grandStart)
            print(String(format: "GraNd (exact, %@): %d samples in %.1f s, %.2f ms/sample, %.0f s for %d samples; mean norm %.4f",
                         network is MLP ? "outer products" : "per-sample backward", sample.count, seconds,
                         1000 * seconds / Double(sample.count), seconds / Double(sample.count) * Double(data.train.count),
                         data.train.count, norms.reduce(0, +) / Double(norms.count)))
        }
    }
}
