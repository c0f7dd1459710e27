import DataIO
import Foundation
import Recipes
import Runtime
import Tensors

/// `application: classify`: supervised training of an MLP on a dense-feature dataset (JSONL with a
/// numeric-array field, CSV or IDX), evaluated on a held-out split by sample id. The plain baseline,
/// and the main job until the noisy-label application lands.
public struct ClassifyApplication: WinnowApplication {
    public static let name = "classify"
    public static let summary = "Train an MLP classifier on dense features with a held-out split by sample id."

    /// Where the data come from.
    public struct DatasetSettings: Codable, Sendable, Equatable {
        /// An archive, a file or a directory (`--set dataset.archive=/path/to/data.tar.gz`).
        public var archive = "Datasets/uci-digits.tar.gz"
        /// The JSONL field holding the feature vector.
        public var featuresField = "pixels"
        public var labelField = "label"
        public var idField = "id"
        /// The split to train on; empty means the first split of the dataset.
        public var split = ""
        /// Held-out test split: a split name of the dataset, or empty to hold out `holdoutFraction` by id.
        public var testSplit = ""
        public var holdoutFraction = 0.2
        public init() {}
    }

    public struct Config: RecipeConfig, Equatable {
        public var dataset = DatasetSettings()
        public var training = FeatureClassifierTraining.Configuration()
        public init() {}

        /// Every numeric key has a range; the network must also fit in memory.
        public func validate() throws {
            try SettingRange.checkTraining(epochs: training.epochs, batchSize: training.batchSize,
                                           learningRate: training.learningRate, weightDecay: training.weightDecay)
            try SettingRange.check(training.featureScale, in: 1e-12...1e12, "training.feature_scale")
            for (i, width) in training.hidden.enumerated() {
                try SettingRange.check(width, in: 1...65_536, "training.hidden.\(i)")
            }
            // Between hidden layers (the input width is known only once the data is read).
            let widths = training.hidden
            try ModelMemory.check(parameters: zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }, key: "training.hidden")
            try SettingRange.check(dataset.holdoutFraction, in: 1e-6...0.999_999, "dataset.holdout_fraction")
        }
    }

    public static func run(_ config: Config, context: RunContext) throws -> RunSummary {
        let options = DatasetOptions(
            jsonl: JSONLOptions(
                idField: config.dataset.idField, textField: nil,
                labelField: config.dataset.labelField,
                featuresField: config.dataset.featuresField, weakLabelsField: nil))
        let dataset = try Dataset.load(path: config.dataset.archive, options: options)
        for warning in dataset.warnings { context.progress.log("warning: \(warning)") }
        let trainName = config.dataset.split.isEmpty ? dataset.splitNames[0] : config.dataset.split
        var train = try LabeledFeatures.from(dataset, split: trainName)
        let test: LabeledFeatures
        if config.dataset.testSplit.isEmpty {
            let holdOut = HoldOutSplit(fraction: config.dataset.holdoutFraction, seed: context.seed)
            test = train.filter(holdOut.isHeldOut)
            train = train.filter { !holdOut.isHeldOut($0) }
        } else {
            test = try LabeledFeatures.from(dataset, split: config.dataset.testSplit)
        }
        var training = config.training
        training.seed = context.seed
        context.progress.log(
            "classify: \(train.count) training and \(test.count) test samples of \(config.dataset.archive), \(train.width) features, "
                + "\(train.classCount) classes"
        )
        context.progress.start("training", total: training.epochs)
        if context.size > 1 { context.progress.log("classify: \(context.size) ranks, global batch \(training.batchSize)") }
        let (_, accuracy) = try FeatureClassifierTraining(training).run(train: train, test: test, communicator: context.communicator) {
            report in
            try context.report(.step(report.epoch, metrics: ["train_loss": report.meanLoss, "test_accuracy": report.testAccuracy]))
        }
        return RunSummary(
            metrics: ["test_accuracy": accuracy, "train_samples": Double(train.count), "test_samples": Double(test.count)],
            notes: [
                "held out \(test.count) samples "
                    + "\(config.dataset.testSplit.isEmpty ? "by id hash" : "from split \(config.dataset.testSplit)")"
            ])
    }
}
