import DataIO
import Foundation
import Testing
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

@Suite struct ClassifyBadInputTests {
    @Test func nanFeatureStopsTrainingNamingTheBatch() {
        let features: [[Float]] = (0..<40).map { i in [Float(i % 2), 1, i == 7 ? .nan : 0.5] }
        let data = LabeledFeatures(ids: (0..<40).map { "s\($0)" }, features: features, labels: (0..<40).map { $0 % 2 }, classCount: 2)
        var configuration = FeatureClassifierTraining.Configuration()
        configuration.epochs = 2
        configuration.batchSize = 8
        #expect { try FeatureClassifierTraining(configuration).run(train: data, test: data) } throws: { error in
            guard case let .nonFiniteLoss(epoch, _, _) = error as? TrainingError else { return false }
            return epoch == 1 && error.localizedDescription.contains("not finite")
        }
    }

    @Test func recordWithoutFeaturesIsAnErrorNamingFileAndSample() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-classify-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("data.tar.gz").path
        let lines = #"{"id": "a", "label": 0, "pixels": [1, 2]}"# + "\n" + #"{"id": "b", "label": 1}"# + "\n"
        try ArchiveWriter.write(to: archive, entries: [(path: "data/train.jsonl", bytes: Array(lines.utf8))])
        let dataset = try Dataset.load(path: archive, options: DatasetOptions(jsonl: JSONLOptions(featuresField: "pixels")))
        #expect(throws: ApplicationError.invalidRecord(path: archive, id: "b", reason: "needs a label and 2 features")) {
            try LabeledFeatures.from(dataset, split: dataset.splitNames[0])
        }
    }
}
