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
    /// Documents (task texts) with more WordPiece ids than `model.max_length`, cut to it.
    var documentsCut = 0
    var taskTextsCut = 0

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
        var taskTextsCut = 0
        func data(_ records: [DataRecord]) -> TokenClassificationData {
            let encoded = records.map { tokenizer.encodeNotingCut($0.text ?? "", maxLength: maxLength) }
            taskTextsCut += encoded.filter(\.isCut).count
            return TokenClassificationData(tokens: encoded.map(\.ids), labels: records.map { $0.label ?? 0 }, classCount: classes)
        }
        func first(_ records: [DataRecord], _ count: Int) -> [DataRecord] { count > 0 ? Array(records.prefix(count)) : records }

        // Keys and texts first: only the first `max_documents` are tokenized.
        var keys: [String] = [], texts: [String] = []
        if settings.corpus == "task" {
            for record in trainRecords {
                keys.append(record.id)
                texts.append(record.text ?? "")
            }
        } else {
            let corpus = try Dataset.load(path: settings.corpus)
            for warning in corpus.warnings { log("warning: \(warning)") }
            for s in corpus.splits {
                for record in s.records {
                    guard let text = record.text, !text.isEmpty else { continue }
                    keys.append(corpus.splits.count > 1 ? "\(s.name)/\(record.id)" : record.id)
                    texts.append(text)
                }
            }
        }
        if settings.maxDocuments > 0, settings.maxDocuments < keys.count {
            keys = Array(keys.prefix(settings.maxDocuments))
            texts = Array(texts.prefix(settings.maxDocuments))
        }
        guard !keys.isEmpty else { throw ContinuedPretrainingError.emptyCorpus(path: settings.corpus) }
        let encoded = texts.map { tokenizer.encodeNotingCut($0, maxLength: maxLength) }
        var result = ContinuedPretrainingData(
            train: data(trainRecords), valid: data(first(validSplit.records, settings.validSubset)),
            test: data(first(testSplit.records, settings.testSubset)), classNames: dataset.classNames,
            documents: encoded.map(\.ids), documentKeys: keys)
        result.documentsCut = encoded.filter(\.isCut).count
        result.taskTextsCut = taskTextsCut
        return result
    }

    /// Documents with no token MLM may select (every id special, `[UNK]` included, as in a corpus of emoji).
    func unmaskableDocuments(_ masking: MaskedLanguageModeling) -> Int {
        documents.filter { ids in !ids.contains { masking.isEligible($0, attended: 1) } }.count
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
    /// No corpus document has a token the MLM loss could be taken on.
    case noMaskableTokens(path: String, documents: Int)

    public var errorDescription: String? {
        switch self {
        case let .missingSplit(path, split, key, available):
            "\(path): no split '\(split)' (set by \(key)); the dataset has \(available.joined(separator: ", "))"
        case let .emptySplit(path, split): "\(path): split '\(split)' has no samples"
        case let .emptyCorpus(path): "\(path): the corpus (dataset.corpus) has no document with text"
        case let .multipleRanks(size):
            "continued-pretraining runs in one process; it was started on \(size) ranks (run it without mpirun)"
        case let .noMaskToken(path): "\(path): the vocabulary has no [MASK] token"
        case let .noMaskableTokens(path, documents):
            "\(path): none of the \(documents) corpus documents (dataset.corpus) has a token masked-language modelling can mask "
                + "(each one tokenizes to [UNK] and special tokens only); give a corpus with text in the vocabulary, or method finetune"
        case let .vocabularyMismatch(tokens, embeddings):
            "the WordPiece vocabulary has \(tokens) ids but the encoder only \(embeddings) word embeddings"
        }
    }
}
