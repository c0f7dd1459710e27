import DataIO
import Foundation
import NeuralNetworks
import Recipes
import Runtime
import Tensors

/// The splits of a WRENCH-layout dataset, tokenized and labeled for the noisy-label application.
package struct NoisyLabelData {
    /// Training samples with their training targets (majority vote of the weak labels, or gold).
    package var train: TextClassificationData
    /// The clean meta set (gold labels).
    package var clean: TextClassificationData
    /// The test set (gold labels), for evaluation only.
    package var test: TextClassificationData
    /// The clean meta split's own weak targets (majority vote, row-major `[clean.count, classes]`, ties by the tie
    /// policy, all-abstain uniform) and decisive weak labels: what label correction is checked against.
    package var cleanWeakTargets: [Float]
    package var cleanWeakLabels: [Int?]
    /// Per training sample: the decisive majority-vote label (nil on ties and all-abstain) and the gold label.
    package var weakLabels: [Int?]
    package var goldLabels: [Int?]
    package var weakReport: WeakLabelReport
    package var classNames: [String]
    /// Training samples the tie policy dropped.
    package var droppedCount: Int
    /// The training rows `weakCount..<train.count` are the clean meta split's samples with their gold labels
    /// (`dataset.train_on_meta_split`, `training.clean_epochs`); the rows before them are the weak ones.
    package var weakCount: Int
    /// The label net's inputs when it reads the frozen sentence embedding (`meta.label_net_input`): one row per
    /// training row and per clean meta sample; nil when it reads the model's feature.
    package var labelFeatures: (train: Tensor, clean: Tensor)?

    /// The rows of the clean samples in the training data (empty when they do not train).
    package var cleanTrainRows: Range<Int> { weakCount..<train.count }

    /// - Parameters:
    ///   - appendMetaSplit: append the clean meta split to the training rows (default: `train_on_meta_split`).
    ///   - cacheDirectory: where the sentence-embedding model caches its features (nil: no cache).
    ///   - log: progress messages (the sentence embeddings take a while the first time).
    package static func load(
        _ settings: NoisyLabelsApplication.DatasetSettings, model: NoisyLabelsApplication.ModelSettings,
        seed: UInt64, appendMetaSplit: Bool? = nil, sentenceEmbeddingsForLabelNet: Bool = false,
        cacheDirectory: URL? = nil, log: (String) -> Void = { _ in }
    ) throws -> (data: NoisyLabelData, tokenizer: any TextTokenizer) {
        let tie: TiePolicy =
            switch settings.tiePolicy {
            case .uniformSoft: .uniformSoft
            case .abstain: .abstain
            case .random: .random(seed: seed)
            }
        let dataset = try Dataset.load(path: settings.archive, options: DatasetOptions(tiePolicy: tie))
        for warning in dataset.warnings { log("warning: \(warning)") }
        guard dataset.format == .wrench else {
            throw NoisyLabelDataError.notWRENCH(path: settings.archive, format: dataset.format.rawValue)
        }
        func split(_ name: String, key: String) throws -> LabeledSplit {
            guard let s = dataset[split: name] else {
                throw NoisyLabelDataError.missingSplit(path: settings.archive, split: name, key: key, available: dataset.splitNames)
            }
            return s
        }
        let trainSplit = try split(settings.trainSplit, key: "dataset.train_split")
        let metaSplit = try split(settings.metaSplit, key: "dataset.meta_split")
        let testSplit = try split(settings.testSplit, key: "dataset.test_split")
        guard let vote = dataset.majorityVote(split: trainSplit.name) else {
            throw NoisyLabelDataError.noWeakLabels(path: settings.archive, member: trainSplit.member)
        }
        for s in [trainSplit, metaSplit, testSplit] {
            if let r = s.records.first(where: { $0.text == nil }) {
                throw ApplicationError.invalidRecord(path: "\(settings.archive):\(s.member)", id: r.id, reason: "has no data.text")
            }
        }
        for s in [metaSplit, testSplit] + (settings.trainLabels == .gold ? [trainSplit] : []) {
            if let r = s.records.first(where: { $0.label == nil }) {
                throw ApplicationError.invalidRecord(
                    path: "\(settings.archive):\(s.member)", id: r.id,
                    reason:
                        "has no gold label (needed for the \(s.name) "
                        + "split\(s.name == trainSplit.name ? " with dataset.train_labels: gold" : ""))"
                )
            }
        }
        let allTexts = [trainSplit, metaSplit, testSplit].flatMap { $0.records.map { $0.text ?? "" } }
        let tokenizer: any TextTokenizer =
            switch model.kind {
            case .embeddingBag: HashedNGramTokenizer(buckets: model.buckets, maxN: model.ngrams)
            case .transformer:
                WordVocabularyTokenizer(
                    trainingTexts: trainSplit.records.map { $0.text ?? "" },
                    maxWords: model.vocabularySize, maxLength: model.maxLength)
            case .sentenceEmbedding:
                try SentenceFeatureTable.build(
                    texts: allTexts, maxLength: model.maxLength, layers: model.embeddingLayers, cacheDirectory: cacheDirectory, log: log)
            case .pretrainedTransformer: try PretrainedTextClassifier.miniLMTokenizer(maxLength: model.maxLength)
            }
        let classes = dataset.classCount
        var keys: [String] = [], tokens: [[Int]] = [], targets: [Float] = [], weak: [Int?] = [], gold: [Int?] = []
        var dropped = 0
        var trainTexts: [String] = []
        for (record, v) in zip(trainSplit.records, vote.votes) {
            let target: [Float]
            switch settings.trainLabels {
            case .gold:
                var oneHot = [Float](repeating: 0, count: classes)
                oneHot[record.label!] = 1
                target = oneHot
            case .weak:
                guard let v else { dropped += 1; continue }
                target = settings.weakTargets == .voteShare ? Self.voteShare(record.weakLabels ?? [], classes: classes) ?? v.soft : v.soft
            }
            keys.append(record.id)
            trainTexts.append(record.text ?? "")
            tokens.append(tokenizer.encode(record.text ?? ""))
            targets += target
            weak.append(v.flatMap { vote in vote.soft.filter { $0 > 0 }.count == 1 ? vote.label : nil })
            gold.append(record.label)
        }
        guard !keys.isEmpty else { throw NoisyLabelDataError.emptyTraining(path: settings.archive, split: trainSplit.name) }
        let weakCount = keys.count
        if appendMetaSplit ?? settings.trainOnMetaSplit {
            // A control, not a method: the clean samples join the training set with their gold labels (and
            // no weak label, so they stay out of the noise-detection figures).
            for record in metaSplit.records {
                keys.append("\(metaSplit.name)/\(record.id)")
                trainTexts.append(record.text ?? "")
                tokens.append(tokenizer.encode(record.text ?? ""))
                var oneHot = [Float](repeating: 0, count: classes)
                oneHot[record.label!] = 1
                targets += oneHot
                weak.append(nil)
                gold.append(record.label)
            }
        }
        var cleanWeakTargets: [Float] = [], cleanWeakLabels: [Int?] = []
        let cleanVote = dataset.majorityVote(split: metaSplit.name)
        for i in 0..<metaSplit.count {
            let v = cleanVote?.votes[i]
            cleanWeakTargets += v?.soft ?? [Float](repeating: 1 / Float(classes), count: classes)
            cleanWeakLabels.append(v.flatMap { vote in vote.soft.filter { $0 > 0 }.count == 1 ? vote.label : nil })
        }
        func goldData(_ s: LabeledSplit) -> TextClassificationData {
            TextClassificationData(
                keys: s.ids, tokens: s.records.map { tokenizer.encode($0.text ?? "") },
                labels: s.records.map { $0.label! }, classCount: classes)
        }
        var labelFeatures: (train: Tensor, clean: Tensor)?
        if sentenceEmbeddingsForLabelNet {
            // The sentence-embedding model's own table when it embedded the last layer at the same length, else a table of
            // its own.
            let modelTable = (tokenizer as? SentenceFeatureTable).flatMap {
                model.maxLength == labelNetMaxLength && model.embeddingLayers == .last ? $0 : nil
            }
            let table = try modelTable
                ?? SentenceFeatureTable.build(texts: allTexts, maxLength: labelNetMaxLength, cacheDirectory: cacheDirectory, log: log)
            labelFeatures = (table.rows(of: trainTexts), table.rows(of: metaSplit.records.map { $0.text ?? "" }))
        }
        let data = NoisyLabelData(
            train: TextClassificationData(keys: keys, tokens: tokens, targets: targets, classCount: classes),
            clean: goldData(metaSplit), test: goldData(testSplit), cleanWeakTargets: cleanWeakTargets,
            cleanWeakLabels: cleanWeakLabels, weakLabels: weak, goldLabels: gold,
            weakReport: vote.report, classNames: dataset.classNames, droppedCount: dropped,
            weakCount: weakCount, labelFeatures: labelFeatures)
        return (data, tokenizer)
    }
}

extension NoisyLabelData {
    /// WordPiece tokens per text when the label net reads sentence embeddings (the MiniLM recipes' length).
    static let labelNetMaxLength = 128

    /// The share of each class among the non-abstaining votes (nil when every function abstains or a vote
    /// names no class of the dataset).
    package static func voteShare(_ votes: [Int], classes: Int) -> [Float]? {
        var counts = [Float](repeating: 0, count: classes)
        for vote in votes where vote >= 0 {
            guard vote < classes else { return nil }
            counts[vote] += 1
        }
        let total = counts.reduce(0, +)
        return total > 0 ? counts.map { $0 / total } : nil
    }
}

/// Data problems specific to the noisy-label application, naming the archive and the recipe key.
public enum NoisyLabelDataError: Error, LocalizedError, Equatable {
    case notWRENCH(path: String, format: String)
    case missingSplit(path: String, split: String, key: String, available: [String])
    case noWeakLabels(path: String, member: String)
    case emptyTraining(path: String, split: String)

    public var errorDescription: String? {
        switch self {
        case let .notWRENCH(path, format):
            "\(path): the noisy-label application needs a WRENCH-layout dataset ({train,valid,test}.json and label.json), found \(format)"
        case let .missingSplit(path, split, key, available):
            "\(path): no split '\(split)' (set by \(key)); the dataset has \(available.joined(separator: ", "))"
        case let .noWeakLabels(path, member):
            "\(path):\(member): no sample has weak_labels, so there is nothing to vote on"
        case let .emptyTraining(path, split):
            "\(path): every sample of split '\(split)' was dropped by the tie policy; use dataset.tie_policy: uniform_soft"
        }
    }
}
