import DataIO
import Foundation
import NeuralNetworks
import ResultStore
import Runtime
import Testing
import WinnowTestSupport

@testable import ContinuedPretraining

/// What a continued-pretraining run records beside its metrics: the start of each corpus document's text, the
/// mean weight per vocabulary token, a manifest and archive of the documents that help most, and how it
/// reports a corpus it cannot use as given.
@Suite(.needsMiniLM) struct ContinuedPretrainingRecordsTests {
    static let corpusPath = ContinuedPretrainingTests.root.appendingPathComponent("Datasets/rt-movie-corpus.tar.gz").path

    static func tokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabularyFile: PretrainedBert.miniLMDirectory().appendingPathComponent("vocab.txt"))
    }

    /// A JSONL corpus archive with one document per text (ids `doc-0`, `doc-1`, …).
    static func corpus(_ texts: [String], in directory: URL, name: String = "corpus.tar.gz") throws -> String {
        let lines = texts.enumerated().map { index, text in
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return #"{"id": "doc-\#(index)", "text": "\#(escaped)"}"#
        }
        let path = directory.appendingPathComponent(name).path
        try ArchiveWriter.write(to: path, entries: [(path: "corpus/docs.jsonl", bytes: Array((lines.joined(separator: "\n") + "\n").utf8))])
        return path
    }

    @Test func documentsCarryTheirTextAndTokensTheirMeanWeight() throws {
        let (directory, recipe) = try ContinuedPretrainingTests.recipe(method: "sama")
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("runs.sqlite").path
        let outcome = try ContinuedPretrainingTests.run(recipe, db: db)
        let store = try ResultStore(path: db, mode: .existing)
        let corpus = try Dataset.load(path: Self.corpusPath)
        let texts = Dictionary(corpus.splits.flatMap(\.records).map { ($0.id, $0.text ?? "") }) { first, _ in first }

        // Documents: the text each key names, re-read from the corpus the recipe names (as `winnow weights` shows it).
        let run = try store.run(outcome.runID)
        let recorded = try ManifestArchive.sampleTexts(of: run, store: store, registry: .builtIn)
        for weights in [try store.topWeights(run: outcome.runID, count: 5), try store.bottomWeights(run: outcome.runID, count: 5)] {
            #expect(weights.count == 5)
            for weight in weights {
                let key = try #require(weight.key)
                #expect(recorded[key] != nil && recorded[key] == texts[key], "\(key)")
            }
        }

        // Tokens: every epoch, real (non-special) vocabulary tokens with their spelling, counts and weights.
        #expect(try store.tokenWeightSteps(run: outcome.runID) == [1, 2])
        let tokenizer = try Self.tokenizer()
        let all = try store.tokenWeights(run: outcome.runID, count: 1_000_000, descending: true)
        #expect(all.count > 20)
        #expect(all.allSatisfy { $0.token == tokenizer.tokens[$0.tokenID] && $0.count >= 1 && $0.weight > 0 && $0.weight < 2 })
        let specials = Set(["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"])
        #expect(!all.contains { specials.contains($0.token) })
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.weight >= $1.weight }, "highest first")
        #expect(all.contains { abs($0.weight - 1) > 1e-7 }, "SAMA moved some token weights off 1")
        let frequent = try store.tokenWeights(run: outcome.runID, count: 10, descending: false, minimumCount: 3)
        #expect(frequent.allSatisfy { $0.count >= 3 } && zip(frequent, frequent.dropFirst()).allSatisfy { $0.weight <= $1.weight })

        // model.max_length 24 cuts the long plot summaries, and the run says so.
        let cut = try #require(outcome.summary.metrics["corpus_documents_cut"])
        #expect(cut > 0 && cut <= 40)
        #expect(outcome.summary.notes.contains { $0.contains("corpus documents were cut to model.max_length (24 ids)") })
        #expect(outcome.summary.metrics["corpus_documents_unmaskable"] == 0)
        #expect(outcome.summary.notes.contains { $0.contains("--tokens --bottom 20") })
    }

    /// `winnow export manifest --by weight --keep 0.5 [--archive]` on the corpus documents: the manifest holds
    /// the better-weighted half, and the archive is the corpus reduced to it, which the corpus reader reads back.
    @Test func keptHalfOfTheCorpusIsAnArchiveTheCorpusReaderReads() throws {
        let (directory, recipe) = try ContinuedPretrainingTests.recipe(method: "sama", epochs: 1)
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("runs.sqlite").path
        let outcome = try ContinuedPretrainingTests.run(recipe, db: db)
        let store = try ResultStore(path: db, mode: .existing)

        let weights = try store.weights(run: outcome.runID)
        let entries = try store.manifest(ManifestRequest(runID: outcome.runID, selection: .keep(0.5), ranking: .weight))
        #expect(entries.count == Int((Double(weights.count) / 2).rounded()) && entries.count > 5)
        let kept = Set(entries.map(\.sampleID))
        let lowestKept = weights.filter { kept.contains($0.sampleID) }.map(\.weight).min() ?? 0
        #expect(weights.filter { !kept.contains($0.sampleID) }.allSatisfy { $0.weight <= lowestKept }, "the highest half")

        // The archive comes from dataset.corpus (not the task's dataset.archive), as the application says.
        let run = try store.run(outcome.runID)
        #expect(
            ManifestArchive.sourceArchives(of: run, store: store, registry: .builtIn) == [
                ContinuedPretrainingTests.root.appendingPathComponent("Datasets/rt-sentiment-weak.tar.gz").path, Self.corpusPath,
            ])
        #expect(try ManifestArchive.sampleArchive(of: run, store: store, registry: .builtIn) == Self.corpusPath)
        let archive = directory.appendingPathComponent("kept.tar.gz").path
        let plan = try ManifestArchive.prepare(store: store, runID: outcome.runID, entries: entries, output: archive, registry: .builtIn)
        let summary = try ManifestArchive.write(plan)
        #expect(summary.kept.values.reduce(0, +) == entries.count)
        #expect(throws: ManifestArchiveError.self) {
            // Without the application's word, the task archive has no split `corpus`.
            try ManifestArchive.prepare(store: store, runID: outcome.runID, entries: entries, output: archive)
        }

        var settings = ContinuedPretrainingApplication.DatasetSettings()
        settings.archive = ContinuedPretrainingTests.root.appendingPathComponent("Datasets/rt-sentiment-weak.tar.gz").path
        settings.trainSubset = 8
        settings.corpus = archive
        let data = try ContinuedPretrainingData.load(settings, tokenizer: try Self.tokenizer(), maxLength: 24, seed: 3) { _ in }
        #expect(data.documentKeys == entries.compactMap(\.key), "the kept documents, in corpus order")
        let original = try Dataset.load(path: Self.corpusPath).splits.flatMap(\.records)
        let texts = Dictionary(original.map { ($0.id, $0.text ?? "") }) { first, _ in first }
        let exported = try Dataset.load(path: archive).splits.flatMap(\.records)
        #expect(exported.map(\.id) == data.documentKeys && exported.allSatisfy { $0.text == texts[$0.id] }, "texts byte for byte")
    }

    /// A corpus whose records have no text; one of [UNK]s only; and one where some documents are too long or
    /// have nothing to mask.
    @Test func corpusProblemsAreErrorsOrCountedWarnings() throws {
        let (directory, recipe) = try ContinuedPretrainingTests.recipe(method: "tartan-mt", epochs: 1)
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("runs.sqlite").path

        let empty = try Self.corpus(["", ""], in: directory, name: "empty.tar.gz")
        #expect {
            try ContinuedPretrainingTests.run(recipe, db: db, overrides: ["dataset.corpus=\(empty)"])
        } throws: { error in
            error.localizedDescription.contains(empty) && error.localizedDescription.contains("has no document with text")
        }

        let emoji = try Self.corpus(["🎬🍿", "🍿 🎥", "🎞"], in: directory, name: "emoji.tar.gz")
        #expect {
            try ContinuedPretrainingTests.run(recipe, db: db, overrides: ["dataset.corpus=\(emoji)"])
        } throws: { error in
            error.localizedDescription.contains(emoji) && error.localizedDescription.contains("none of the 3 corpus documents")
        }
        let store = try ResultStore(path: db, mode: .existing)
        #expect(try store.runs().allSatisfy { $0.status == .failed && $0.error?.contains("corpus") == true })

        // 12 short documents, 4 longer than max_length 24, 2 with nothing to mask: the run goes on and counts them.
        let long = String(repeating: "the story of a film about a family who moves to a new town ", count: 3)
        let mixed = try Self.corpus(
            (0..<12).map { "a short plot number \($0)" } + (0..<4).map { long + "\($0)" } + ["🎬", "🍿🍿"], in: directory,
            name: "mixed.tar.gz")
        let outcome = try ContinuedPretrainingTests.run(recipe, db: db, overrides: ["dataset.corpus=\(mixed)", "dataset.max_documents=0"])
        #expect(outcome.summary.metrics["corpus_documents_cut"] == 4)
        #expect(outcome.summary.metrics["corpus_documents_unmaskable"] == 2)
        #expect(outcome.summary.metrics["task_texts_cut"]?.isFinite == true)
        #expect(outcome.summary.notes.contains("4 of 18 corpus documents were cut to model.max_length (24 ids)"))
        #expect(outcome.summary.notes.contains("2 of 18 corpus documents have no maskable token and took no part in MLM"))
        let recorded = try ResultStore(path: db, mode: .existing).run(outcome.runID)
        #expect(recorded.status == .completed && recorded.metrics["corpus_documents_cut"] == 4)
    }

    @Test func cutTokenizationMatchesTheCutItReports() throws {
        let tokenizer = try Self.tokenizer()
        for text in ["", "a b", "one two three four", "one two three four five", String(repeating: "word ", count: 40)] {
            for length in [3, 4, 6, 7, 24] {
                let (ids, isCut) = tokenizer.encodeNotingCut(text, maxLength: length)
                #expect(ids == tokenizer.encode(text, maxLength: length), "\(text) @ \(length)")
                #expect(isCut == (tokenizer.tokenize(text).count > length - 2), "\(text) @ \(length)")
            }
        }
    }
}
