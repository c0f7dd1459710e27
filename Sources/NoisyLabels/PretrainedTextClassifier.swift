import DataIO
import Foundation
import NeuralNetworks
import Recipes
import Runtime
import Tensors

/// `model.kind: pretrained_transformer`: the all-MiniLM-L6-v2 encoder with its pretrained weights and
/// WordPiece vocabulary, fine-tuned whole under a new linear head on the masked mean of its last hidden
/// states (the pooling the sentence encoder was trained with). `bash scripts/install-minilm.sh` installs it;
/// `$WINNOW_MINILM_DIR` points elsewhere.
enum PretrainedTextClassifier {
    /// The model's WordPiece tokenizer, cutting texts to `maxLength` ids (`[CLS]` and `[SEP]` included).
    static func miniLMTokenizer(maxLength: Int) throws -> WordPieceTokenizer {
        try SentenceEmbedder.tokenizer(directory: PretrainedBert.miniLMDirectory(), maxLength: maxLength)
    }

    /// The encoder of `config.json` + `model.safetensors` (dropout replaced by `dropout`) and a freshly
    /// initialised head over `classes`, drawn from `rng`.
    /// - Throws: ``InvalidSetting`` when `maxLength` (`model.max_length`) exceeds the encoder's positions;
    ///   ``PretrainedModelError`` naming a missing or bad file or key;
    ///   ``SentenceEmbedderError/vocabularyMismatch(vocabulary:tokens:configuration:vocabSize:)`` when the
    ///   tokenizer has ids the encoder has no embedding for.
    static func miniLM(
        tokenizer: any TextTokenizer, maxLength: Int, classes: Int, dropout: Float,
        rng: inout RandomGenerator
    ) throws -> TransformerTextClassifier {
        let directory = try PretrainedBert.miniLMDirectory()
        let configurationFile = directory.appendingPathComponent("config.json")
        var configuration = try PretrainedBert.configuration(from: configurationFile)
        try SentenceEmbedder.checkVocabulary(tokenizer, fits: configuration, directory: directory)
        guard maxLength <= configuration.maxPositions else {
            throw InvalidSetting(
                "model.max_length",
                "must be at most the encoder's \(configuration.maxPositions) positions (\(configurationFile.path)), got \(maxLength)")
        }
        configuration.dropout = dropout
        let classifier = TransformerTextClassifier(configuration, classes: classes, rng: &rng)
        try PretrainedBert.loadWeights(directory.appendingPathComponent("model.safetensors"), into: classifier.model.encoder)
        return classifier
    }
}
