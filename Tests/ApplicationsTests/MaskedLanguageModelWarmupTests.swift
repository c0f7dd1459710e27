import DataIO
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Tensors
import Testing
import WinnowTestSupport

/// A measurement more than a check: a newly initialised MLM head on the frozen pretrained all-MiniLM-L6-v2
/// encoder, trained alone on 200 plot summaries of `Datasets/rt-movie-corpus.tar.gz` (Adam 1e-3, batch 16,
/// max length 128, 150 steps). It prints the MLM loss at the start and every 25 steps, and the seconds per
/// step. Reference (PyTorch, same machine): 10.8 at the start, 6.9 after 150 head-only steps.
@Suite(.tags(.miniLM, .slow), .needsMiniLM, .slowTier) struct MaskedLanguageModelWarmupTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Datasets/rt-movie-corpus.tar.gz")

    /// The `text` field of the first `count` lines of the corpus.
    static func documents(_ count: Int) throws -> [String] {
        let bytes = try ArchiveSource(path: corpus.path).read(member: "rt-movie-corpus/plots.jsonl")
        var texts: [String] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) where texts.count < count {
            let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            texts.append(try #require(object?["text"] as? String))
        }
        return texts
    }

    @Test func freshHeadOnFrozenMiniLM() throws {
        let directory = try PretrainedBert.miniLMDirectory()
        let encoder = try PretrainedBert.loadEncoder(directory: directory)
        let tokenizer = try WordPieceTokenizer(vocabularyFile: directory.appendingPathComponent("vocab.txt"), defaultMaxLength: 128)
        let maskID = try #require(tokenizer.id(of: "[MASK]"))
        let masking = MaskedLanguageModeling(
            specialIDs: [tokenizer.classID, tokenizer.separatorID, tokenizer.paddingID, tokenizer.unknownID], maskID: maskID,
            vocabularySize: tokenizer.vocabularySize)
        let documents = try Self.documents(200).map { tokenizer.encode($0) }
        #expect(documents.count == 200 && documents.allSatisfy { $0.count <= 128 })

        var rng = RandomGenerator(seed: 1)
        let head = MaskedLanguageModelHead(tiedTo: encoder, rng: &rng)
        encoder.embeddings.words.weight.requiresGrad = false  // frozen encoder: the tied decoder is not trained
        let parameters = head.namedParameters()
        let optimizer = Adam(learningRate: 1e-3)
        var sampler = EpochSampler(count: documents.count, batchSize: 16, seed: 2)
        var maskRNG = RandomGenerator(seed: 3)
        var losses: [Float] = []
        let started = Date()
        for step in 0..<150 {
            let rows = sampler.next().map { documents[$0] }
            let length = rows.map(\.count).max() ?? 2
            let ids = rows.map { $0 + [Int](repeating: tokenizer.paddingID, count: length - $0.count) }
            let mask = rows.map { [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: length - $0.count) }
            let corruption = masking.corrupt(ids, attentionMask: mask, rng: &maskRNG)
            let hidden = withoutGrad { encoder(corruption.ids, mask: mask, .evaluation()) }
            let loss = head.tokenLosses(hidden: hidden, tokens: corruption.targets).mean()
            losses.append(loss.item)
            let gradients = Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor))
            optimizer.step(parameters, gradients: gradients)
            if step == 0 || (step + 1) % 25 == 0 {
                let recent = losses.suffix(25)
                let mean = recent.reduce(0, +) / Float(recent.count)
                print("MLM warm-up step \(step + 1): batch loss \(losses[step]), mean of last \(recent.count) \(mean)")
            }
        }
        let seconds = Date().timeIntervalSince(started) / 150
        print("MLM warm-up: \(String(format: "%.3f", seconds)) s per step (batch 16, max length 128, encoder frozen)")
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(losses[0] > 9 && losses[0] < 13, "a fresh head starts near ln 30,522 ≈ 10.3: \(losses[0])")
        let last = losses.suffix(25).reduce(0, +) / 25
        #expect(last < losses[0] - 2, "the head learns: \(losses[0]) → \(last)")
    }
}
