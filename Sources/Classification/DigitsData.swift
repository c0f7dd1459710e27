import DataIO
import Recipes
import Runtime

extension LabeledFeatures {
    /// Dense feature records (JSONL with a numeric-array field, CSV, IDX) of one split as features.
    /// Throws when a record has no label or no features, or when feature lengths differ.
    public static func from(_ dataset: Dataset, split name: String) throws -> LabeledFeatures {
        guard let split = dataset[split: name] else {
            throw DataIOError.emptySplit(file: dataset.sourcePath, split: name)
        }
        var ids: [String] = [], features: [[Float]] = [], labels: [Int] = []
        let width = split.records.first?.features?.count ?? 0
        for record in split.records {
            guard let label = record.label, let f = record.features, f.count == width, width > 0 else {
                throw ApplicationError.invalidRecord(
                    path: dataset.sourcePath, id: record.id,
                    reason: "needs a label and \(width) features")
            }
            ids.append(record.id); features.append(f); labels.append(label)
        }
        return LabeledFeatures(ids: ids, features: features, labels: labels, classCount: dataset.classCount)
    }
}
