import DataIO
import Foundation
import NeuralNetworks
import Tensors
import Testing
import WinnowTestSupport
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// `model.kind: pretrained_transformer`: the whole all-MiniLM-L6-v2 encoder (installed by scripts/setup.sh)
/// fine-tuned under a new head. The classifier starts from the pretrained encoder, a SAMA run on the toy
/// archive records everything, and a `model.max_length` beyond the encoder's positions is a setting error.
@Suite(.tags(.miniLM, .slow), .needsMiniLM, .slowTier) struct PretrainedTransformerRunTests {
    typealias Toy = NoisyLabelApplicationTests
    static let overrides = [
        "model.kind=pretrained_transformer", "model.max_length=16", "training.learning_rate=0.0001",
        "meta.method=sama", "meta.correct=true",
    ]

    /// Before any training, the classifier's penultimate feature (masked mean of the last hidden states),
    /// L2-normalised, is the pretrained sentence embedding: the weights are loaded, not drawn.
    @Test func startsFromThePretrainedEncoder() throws {
        let tokenizer = try PretrainedTextClassifier.miniLMTokenizer(maxLength: 32)
        var rng = RandomGenerator(seed: 1)
        let classifier = try PretrainedTextClassifier.miniLM(tokenizer: tokenizer, maxLength: 32, classes: 2, dropout: 0.1, rng: &rng)
        #expect(classifier.configuration.dropout == 0.1 && classifier.featureWidth == 384)
        let sentences = PretrainedMiniLMTests.sentences
        let feature = classifier.features(sentences.map { tokenizer.encode($0) }, ForwardContext(training: false)).feature
        #expect(feature.shape == [3, 384])
        let expected = try SentenceEmbedder.miniLM().embed(sentences, maxLength: 32)
        for (row, reference) in expected.enumerated() {
            let values = Array(feature.scalars[(row * 384)..<((row + 1) * 384)])
            let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let largest = zip(values, reference).map { abs($0 / norm - $1) }.max() ?? .infinity
            #expect(largest < 1e-5, "sentence \(row): largest difference \(largest)")
        }
    }

    @Test func samaRunRecordsWeightsAndLabels() throws {
        try Toy.withToyArchive { archive, directory in
            let (outcome, store) = try Toy.run(Self.overrides, archive: archive, directory: directory)
            let m = outcome.summary.metrics
            for key in ["test_accuracy", "valid_accuracy", "weight_auc", "labels_fixed", "loss_auc"] {
                let value = try #require(m[key], "missing \(key)")
                #expect(value.isFinite && value >= 0 && value <= 1, "\(key) = \(value)")
            }
            #expect(m["meta_steps"] == 22, "one meta step every 2 of the 15 base steps per epoch, 3 epochs")
            #expect(try store.weights(run: outcome.runID, step: 3).count == 240)
            // The toy texts are sentiment words among neutral ones: the pretrained encoder learns them in 45 steps.
            #expect(try #require(m["test_accuracy"]) >= 0.9)
        }
    }

    @Test func maxLengthBeyondTheEncodersPositionsIsRejected() throws {
        do {
            _ = try Toy.withToyArchive {
                try Toy.run(["model.kind=pretrained_transformer", "model.max_length=600"], archive: $0, directory: $1)
            }
            Issue.record("a max_length of 600 ran")
        } catch {
            let message = error.localizedDescription
            #expect(message.contains("model.max_length") && message.contains("512") && message.contains("600"), "\(message)")
        }
    }

    /// A negative or NaN clip norm would silently turn clipping off, which the fine-tuning recipe relies on.
    @Test(arguments: ["-1", "nan"])
    func clipNormMustBeANonNegativeNumber(_ value: String) throws {
        do {
            _ = try Toy.withToyArchive { try Toy.run(["meta.method=finetune", "training.clip_norm=\(value)"], archive: $0, directory: $1) }
            Issue.record("a clip_norm of \(value) ran")
        } catch {
            #expect(error.localizedDescription.contains("training.clip_norm"), "\(error.localizedDescription)")
        }
    }
}
