import Foundation
import Tensors

/// Errors finding or reading a pretrained model directory; each names the file (and the key, when one is at fault).
public enum PretrainedModelError: Error, LocalizedError, Equatable, Sendable {
    /// The model directory does not exist; `install` says how to get it.
    case directoryNotFound(path: String, install: String)
    /// A file the model needs is not in its directory.
    case fileNotFound(path: String)
    /// `config.json` cannot be read or parsed.
    case unreadableConfiguration(path: String, reason: String)
    /// A `config.json` key is missing, of the wrong type, or has a value Winnow cannot run.
    case badConfiguration(path: String, key: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .directoryNotFound(path, install): "\(path): no pretrained model directory here; \(install)"
        case let .fileNotFound(path): "\(path): no such file (the model directory is incomplete)"
        case let .unreadableConfiguration(path, reason): "\(path): cannot read model configuration (\(reason))"
        case let .badConfiguration(path, key, reason): "\(path): key '\(key)': \(reason)"
        }
    }
}

/// A value of a `config.json` key, as far as the loader cares.
enum ConfigurationValue: Decodable, Equatable, CustomStringConvertible {
    case bool(Bool), number(Double), string(String), other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else {
            self = .other
        }
    }

    var description: String {
        switch self {
        case let .bool(b): "\(b)"
        case let .number(n): n == n.rounded() && abs(n) < 1e15 ? "\(Int(n))" : "\(n)"
        case let .string(s): "'\(s)'"
        case .other: "an array, object or null"
        }
    }
}

/// Loading Hugging Face BERT checkpoints (`config.json` + `model.safetensors`, keys without a `bert.` prefix)
/// into a ``BertEncoder``, and where the all-MiniLM-L6-v2 sentence encoder lives.
public enum PretrainedBert {
    /// Where `scripts/install-minilm.sh` puts all-MiniLM-L6-v2 unless `WINNOW_MINILM_DIR` says otherwise.
    public static let defaultMiniLMDirectory = "/usr/local/share/winnow/all-MiniLM-L6-v2"
    /// The environment variable naming the all-MiniLM-L6-v2 directory.
    public static let miniLMDirectoryVariable = "WINNOW_MINILM_DIR"
    /// Checkpoint tensors that are not encoder parameters and are ignored: the pooler (sentence-transformers
    /// pools the hidden states itself), the position-id buffer, and pre-training heads.
    public static let ignoredKeyPrefixes = ["pooler.", "embeddings.position_ids", "cls."]

    /// The all-MiniLM-L6-v2 directory: `$WINNOW_MINILM_DIR`, else ``defaultMiniLMDirectory``.
    /// - Throws: ``PretrainedModelError/directoryNotFound(path:install:)`` (run `bash scripts/install-minilm.sh`).
    public static func miniLMDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let path = environment[miniLMDirectoryVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultMiniLMDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PretrainedModelError.directoryNotFound(
                path: path, install: "run `bash scripts/install-minilm.sh` to install all-MiniLM-L6-v2 (or set \(miniLMDirectoryVariable))")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// The encoder shape from a Hugging Face BERT `config.json`: `hidden_size`, `num_hidden_layers`,
    /// `num_attention_heads`, `intermediate_size`, `vocab_size` (required), `max_position_embeddings` (512),
    /// `type_vocab_size` (2), `layer_norm_eps` (1e-12), `hidden_dropout_prob` (0.1). `hidden_act` must be
    /// `gelu` (the exact erf form) and `position_embedding_type` `absolute`, when given.
    public static func configuration(from url: URL) throws -> BertConfiguration {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw PretrainedModelError.fileNotFound(path: path) }
        let object: [String: ConfigurationValue]
        do {
            object = try JSONDecoder().decode([String: ConfigurationValue].self, from: Data(contentsOf: url))
        } catch {
            throw PretrainedModelError.unreadableConfiguration(path: path, reason: "not a JSON object (\(error.localizedDescription))")
        }
        func number(_ key: String, default fallback: Double? = nil) throws -> Double {
            guard let value = object[key] else {
                if let fallback { return fallback }
                throw PretrainedModelError.badConfiguration(path: path, key: key, reason: "missing")
            }
            guard case let .number(n) = value else {
                throw PretrainedModelError.badConfiguration(path: path, key: key, reason: "expected a number, found \(value)")
            }
            return n
        }
        func count(_ key: String, default fallback: Int? = nil) throws -> Int {
            let value = try number(key, default: fallback.map(Double.init))
            guard value >= 1, value == value.rounded(), value < 1e9 else {
                throw PretrainedModelError.badConfiguration(path: path, key: key, reason: "expected a positive integer, found \(value)")
            }
            return Int(value)
        }
        for (key, expected) in [("hidden_act", "gelu"), ("position_embedding_type", "absolute")] {
            if let value = object[key], value != .string(expected) {
                throw PretrainedModelError.badConfiguration(path: path, key: key, reason: "only '\(expected)' is supported, found \(value)")
            }
        }
        let hidden = try count("hidden_size"), heads = try count("num_attention_heads")
        guard hidden % heads == 0 else {
            throw PretrainedModelError.badConfiguration(
                path: path, key: "num_attention_heads",
                reason: "\(heads) heads do not divide hidden_size \(hidden)")
        }
        let epsilon = try number("layer_norm_eps", default: 1e-12), dropout = try number("hidden_dropout_prob", default: 0.1)
        guard epsilon > 0 else {
            throw PretrainedModelError.badConfiguration(path: path, key: "layer_norm_eps", reason: "must be positive, found \(epsilon)")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw PretrainedModelError.badConfiguration(
                path: path, key: "hidden_dropout_prob", reason: "must be in [0, 1), found \(dropout)")
        }
        return BertConfiguration(
            layers: try count("num_hidden_layers"), hidden: hidden, heads: heads,
            intermediate: try count("intermediate_size"), vocabularySize: try count("vocab_size"),
            maxPositions: try count("max_position_embeddings", default: 512),
            typeVocabularySize: try count("type_vocab_size", default: 2),
            dropout: Float(dropout), layerNormEpsilon: Float(epsilon))
    }

    /// Copies the tensors of a BERT `model.safetensors` into `encoder`: every encoder parameter must be present
    /// with its shape (``ModuleError`` naming the file and the key otherwise); ``ignoredKeyPrefixes`` are
    /// skipped and any other extra tensor is an error too (it means the checkpoint and the configuration disagree).
    public static func loadWeights(_ url: URL, into encoder: BertEncoder) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw PretrainedModelError.fileNotFound(path: url.path) }
        let contents = try SafeTensors.read(url) { key in !ignoredKeyPrefixes.contains { key.hasPrefix($0) } }
        try encoder.load(contents.tensors, strict: true, source: url.path)
    }

    /// A ``BertEncoder`` built from `directory/config.json` with the weights of `directory/model.safetensors`.
    public static func loadEncoder(directory: URL) throws -> BertEncoder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PretrainedModelError.directoryNotFound(path: directory.path, install: "it should hold config.json and model.safetensors")
        }
        let configuration = try configuration(from: directory.appendingPathComponent("config.json"))
        var rng = RandomGenerator(seed: 0)
        let encoder = BertEncoder(configuration, rng: &rng)
        try loadWeights(directory.appendingPathComponent("model.safetensors"), into: encoder)
        return encoder
    }
}
