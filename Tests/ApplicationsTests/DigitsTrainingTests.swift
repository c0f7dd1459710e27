import DataIO
import Foundation
import Testing
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// The bundled archive, found from this file's location (Tests/ApplicationsTests → repository root).
func bundledDataset(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Datasets").appendingPathComponent(name).path
}

/// A new empty directory under the system's temporary directory, named `<prefix>-<UUID>`.
func makeTemporaryDirectory(prefix: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

@Suite struct DigitsTrainingTests {
    static func digits() throws -> LabeledFeatures {
        let options = DatasetOptions(jsonl: JSONLOptions(featuresField: "pixels"))
        let dataset = try Dataset.load(path: bundledDataset("uci-digits.tar.gz"), options: options)
        return try LabeledFeatures.from(dataset, split: dataset.splitNames[0])
    }

    @Test func mlpReachesNinetyFivePercentOnHeldOutDigits() throws {
        let all = try Self.digits()
        #expect(all.count == 1_797 && all.width == 64 && all.classCount == 10)
        let split = HoldOutSplit(fraction: 0.2, seed: 0)
        let train = all.filter { !split.isHeldOut($0) }, test = all.filter { split.isHeldOut($0) }
        #expect(test.count > 300 && test.count < 420, "hold-out size \(test.count)")
        var configuration = FeatureClassifierTraining.Configuration()
        configuration.featureScale = 1.0 / 16
        configuration.epochs = 60
        configuration.hidden = [256]
        let (_, accuracy) = try FeatureClassifierTraining(configuration).run(train: train, test: test)
        print("digits MLP 64-256-10: held-out accuracy \(accuracy) on \(test.count) samples")
        #expect(accuracy >= 0.95)
    }

    @Test func holdOutIsStableByIdAndIndependentOfOrder() {
        let split = HoldOutSplit(fraction: 0.25, seed: 3)
        let ids = (0..<4_000).map { "sample-\($0)" }
        let held = ids.filter(split.isHeldOut)
        #expect(abs(Double(held.count) / 4_000 - 0.25) < 0.03)
        #expect(ids.reversed().filter(split.isHeldOut) == held.reversed())
        #expect(
            HoldOutSplit(fraction: 0.25, seed: 4).isHeldOut("sample-1") != split.isHeldOut("sample-1")
                || HoldOutSplit(fraction: 0.25, seed: 4).isHeldOut("sample-2") != split.isHeldOut("sample-2")
                || HoldOutSplit(fraction: 0.25, seed: 4).isHeldOut("sample-3") != split.isHeldOut("sample-3"))
    }
}
