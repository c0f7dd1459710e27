import DataIO
import Foundation
import MetaLearning
import NeuralNetworks
import Recipes
import Runtime
import Tensors

/// The task splits and the auxiliary corpus of a continued-pretraining run, tokenized.
struct ContinuedPretrainingData {
    /// The train subset, the valid and the test split (gold labels).
    var train: TokenClassificationData
    var valid: TokenClassificationData
    var test: TokenClassificationData
    var classNames: [String]
    /// Auxiliary documents (`[CLS] … [SEP]`) and their keys (record ids; `<split>/<id>` when the corpus has
    /// several splits).
    var documents: [[Int]]
    var documentKeys: [String]

    /// Reads the task archive and the corpus and tokenizes them with `tokenizer` (cut to `model.max_length`).
    static func load(
        _ settings: ContinuedPretrainingApplication.DatasetSettings, tokenizer: WordPieceTokenizer, maxLength: Int,
        seed: UInt64, log: (String) -> Void
    ) throws -> ContinuedPretrainingData {
        let dataset = try Dataset.load(path: settings.archive)
        for warning in dataset.warnings { log("warning: \(warning)") }
        func split(_ name: String, key: String) throws -> LabeledSplit {
            guard let s = dataset[split: name] else {
                throw ContinuedPretrainingError.missingSplit(
                    path: settings.archive, split: name, key: key, available: dataset.splitNames)
            }
            for record in s.records {
                guard record.text != nil else {
                    throw ApplicationError.invalidRecord(path: "\(settings.archive):\(s.member)", id: record.id, reason: "has no text")
                }
                guard record.label != nil else {
                    throw ApplicationError.invalidRecord(
                        path: "\(settings.archive):\(s.member)", id: record.id, reason: "has no gold label")
                }
            }
            guard !s.records.isEmpty else { throw ContinuedPretrainingError.emptySplit(path: settings.archive, split: name) }
            return s
        }
        let trainSplit = try split(settings.trainSplit, key: "dataset.train_split")
        let validSplit = try split(settings.validSplit, key: "dataset.valid_split")
        let testSplit = try split(settings.testSplit, key: "dataset.test_split")
        let largest = [trainSplit, validSplit, testSplit].flatMap { $0.records.compactMap(\.label) }.max() ?? 0
        let classes = max(dataset.classCount, largest + 1, 2)

        // A seeded subset of the train split, in dataset order.
        var trainRecords = trainSplit.records
        if settings.trainSubset > 0, settings.trainSubset < trainRecords.count {
            var rng = RandomGenerator(seed: seed &+ 31)
            let chosen = rng.permutation(trainRecords.count).prefix(settings.trainSubset).sorted()
            trainRecords = chosen.map { trainRecords[$0] }
        }
        func data(_ records: [DataRecord]) -> TokenClassificationData {
            TokenClassificationData(
                tokens: records.map { tokenizer.encode($0.text ?? "", maxLength: maxLength) },
                labels: records.map { $0.label ?? 0 }, classCount: classes)
        }
        func first(_ records: [DataRecord], _ count: Int) -> [DataRecord] { count > 0 ? Array(records.prefix(count)) : records }

        var documents: [[Int]] = [], keys: [String] = []
        if settings.corpus == "task" {
            for record in trainRecords {
                documents.append(tokenizer.encode(record.text ?? "", maxLength: maxLength))
                keys.append(record.id)
            }
        } else {
            let corpus = try Dataset.load(path: settings.corpus)
            for warning in corpus.warnings { log("warning: \(warning)") }
            for s in corpus.splits {
                for record in s.records {
                    guard let text = record.text, !text.isEmpty else { continue }
                    documents.append(tokenizer.encode(text, maxLength: maxLength))
                    keys.append(corpus.splits.count > 1 ? "\(s.name)/\(record.id)" : record.id)
                }
            }
        }
        if settings.maxDocuments > 0, settings.maxDocuments < documents.count {
            documents = Array(documents.prefix(settings.maxDocuments))
            keys = Array(keys.prefix(settings.maxDocuments))
        }
        guard !documents.isEmpty else { throw ContinuedPretrainingError.emptyCorpus(path: settings.corpus) }
        return ContinuedPretrainingData(
            train: data(trainRecords), valid: data(first(validSplit.records, settings.validSubset)),
            test: data(first(testSplit.records, settings.testSubset)), classNames: dataset.classNames,
            documents: documents, documentKeys: keys)
    }
}

/// Data problems of a continued-pretraining run, naming the archive and the recipe key.
public enum ContinuedPretrainingError: Error, LocalizedError, Equatable {
    case missingSplit(path: String, split: String, key: String, available: [String])
    case emptySplit(path: String, split: String)
    case emptyCorpus(path: String)
    /// The main stage runs in one process (the program does not shard its batches).
    case multipleRanks(Int)
    case noMaskToken(path: String)
    case vocabularyMismatch(tokens: Int, embeddings: Int)

    public var errorDescription: String? {
        switch self {
        case let .missingSplit(path, split, key, available):
            "\(path): no split '\(split)' (set by \(key)); the dataset has \(available.joined(separator: ", "))"
        case let .emptySplit(path, split): "\(path): split '\(split)' has no samples"
        case let .emptyCorpus(path): "\(path): the corpus (dataset.corpus) has no document with text"
        case let .multipleRanks(size):
            "continued-pretraining runs in one process; it was started on \(size) ranks (run it without mpirun)"
        case let .noMaskToken(path): "\(path): the vocabulary has no [MASK] token"
        case let .vocabularyMismatch(tokens, embeddings):
            "the WordPiece vocabulary has \(tokens) ids but the encoder only \(embeddings) word embeddings"
        }
    }
}
