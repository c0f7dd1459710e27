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

/// The pretrained all-MiniLM-L6-v2 sentence encoder: WordPiece ids and cosine similarities against values from
/// the reference implementation (Hugging Face tokenizer + sentence-transformers), tokenizer edge cases, and the
/// loader's errors. The model must be installed (`bash scripts/install-minilm.sh`, run by scripts/setup.sh):
/// without it these tests fail rather than skip.
@Suite(.tags(.miniLM), .needsMiniLM) struct PretrainedMiniLMTests {
    static let sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]

    static func vocabulary() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabularyFile: PretrainedBert.miniLMDirectory().appendingPathComponent("vocab.txt"))
    }

    static func temporaryDirectory() throws -> URL { try makeTemporaryDirectory(prefix: "winnow-pretrained") }

    // MARK: Tokenizer

    @Test func goldenIDs() throws {
        let tokenizer = try Self.vocabulary()
        #expect(tokenizer.vocabularySize == 30_522)
        #expect([tokenizer.paddingID, tokenizer.unknownID, tokenizer.classID, tokenizer.separatorID] == [Int]([0, 100, 101, 102]))
        #expect(tokenizer.encode(Self.sentences[0]) == [101, 1996, 4633, 2003, 8403, 2651, 1012, 102])
        #expect(tokenizer.encode(Self.sentences[1]) == [101, 2009, 1005, 1055, 2061, 11559, 2648, 999, 102])
        #expect(tokenizer.encode(Self.sentences[2]) == [101, 2002, 5225, 2000, 1996, 3346, 1012, 102])
    }

    @Test func accentsCaseAndWhitespace() throws {
        let tokenizer = try Self.vocabulary()
        #expect(tokenizer.tokenize("Café  NAÏVE\tRésumé\n") == ["cafe", "naive", "resume"])
        // Decomposed input (e + combining acute) is the same as precomposed.
        #expect(tokenizer.encode("cafe\u{301}") == tokenizer.encode("café"))
        // Control and format characters vanish; a no-break space separates.
        #expect(tokenizer.tokenize("hel\u{0}lo\u{200B} wor\u{7}ld") == ["hello", "world"])
        #expect(tokenizer.tokenize("hello\u{A0}world") == ["hello", "world"])
        #expect(tokenizer.encode("") == [101, 102])
        #expect(tokenizer.encode(" \t\n ") == [101, 102])
    }

    @Test func punctuationIsSplitCharacterByCharacter() throws {
        let tokenizer = try Self.vocabulary()
        #expect(tokenizer.tokenize("Hello,world!!") == ["hello", ",", "world", "!", "!"])
        #expect(tokenizer.tokenize("don't") == ["don", "'", "t"])
        // BERT counts ASCII symbols such as $ + ^ as punctuation.
        #expect(tokenizer.tokenize("$5+3^2") == ["$", "5", "+", "3", "^", "2"])
        // Unicode punctuation (P*) too: an em dash and curly quotes.
        #expect(tokenizer.tokenize("yes—“no”") == ["yes", "—", "“", "no", "”"])
        // CJK ideographs are words of their own.
        #expect(tokenizer.tokenize("中文") == ["中", "文"])
    }

    @Test func unknownAndLongWords() throws {
        let tokenizer = try Self.vocabulary()
        #expect(tokenizer.encode("🤖") == [101, 100, 102])
        #expect(tokenizer.encode("hello ☃ world") == [101, 7592, 100, 2088, 102])
        // A word of 101 characters is [UNK]; one of 100 is cut into pieces.
        #expect(tokenizer.encode(String(repeating: "a", count: 101)) == [101, 100, 102])
        let hundred = tokenizer.encode(String(repeating: "a", count: 100))
        #expect(hundred.count > 3 && !hundred.contains(100))
        // Continuations: the pieces of a word not in the vocabulary spell it back.
        let pieces = tokenizer.tokenize("unaffable")
        #expect(pieces.count > 1 && pieces.dropFirst().allSatisfy { $0.hasPrefix("##") })
        #expect(pieces.map { $0.hasPrefix("##") ? String($0.dropFirst(2)) : $0 }.joined() == "unaffable")
    }

    @Test func greedyLongestMatchOnASmallVocabulary() throws {
        let tokenizer = try WordPieceTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "una", "##aff", "##able", "##ff", "a"])
        #expect(tokenizer.tokenize("unaffable") == ["una", "##ff", "##able"])
        #expect(tokenizer.tokenize("unaffablex a") == ["[UNK]", "a"], "a word with an unmatched rest is [UNK] as a whole")
        #expect(tokenizer.encode("a a") == [2, 9, 9, 3])
    }

    @Test func truncationKeepsSeparatorLast() throws {
        let tokenizer = try Self.vocabulary()
        let long = String(repeating: "the weather is lovely today. ", count: 40)
        let ids = tokenizer.encode(long, maxLength: 10)
        #expect(ids.count == 10 && ids.first == 101 && ids.last == 102)
        #expect(Array(ids[1..<9]) == Array(tokenizer.encode(long)[1..<9]))
        #expect(tokenizer.encode(long).count == 242, "40 × 6 pieces fit under the default 512")
        #expect(tokenizer.encode(long, maxLength: 2) == [101, 102])
        #expect(tokenizer.encode("The weather is lovely today.", maxLength: 8) == [101, 1996, 4633, 2003, 8403, 2651, 1012, 102])
        #expect(tokenizer.encode("The weather is lovely today.", maxLength: 7) == [101, 1996, 4633, 2003, 8403, 2651, 102])
    }

    @Test func vocabularyFileErrorsNameTheFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("vocab.txt")
        #expect { try WordPieceTokenizer(vocabularyFile: missing) } throws: { error in
            guard case .unreadableVocabulary(let path, _) = error as? WordPieceError else { return false }
            return path == missing.path && error.localizedDescription.contains(missing.path)
        }
        try Data().write(to: missing)
        #expect(throws: WordPieceError.emptyVocabulary(path: missing.path)) { try WordPieceTokenizer(vocabularyFile: missing) }
        try Data("[PAD]\n[UNK]\n[CLS]\n".utf8).write(to: missing)
        #expect(throws: WordPieceError.missingSpecialToken(path: missing.path, token: "[SEP]")) {
            try WordPieceTokenizer(vocabularyFile: missing)
        }
    }

    // MARK: Encoder

    @Test func goldenCosineSimilarities() throws {
        let embedder = try SentenceEmbedder.miniLM()
        #expect(embedder.encoder.configuration == .miniLM)
        let vectors = embedder.embed(Self.sentences)
        #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 384 })
        for v in vectors { #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5, "unit length") }
        let expected: [(Int, Int, Float)] = [(0, 1, 0.6660), (0, 2, 0.1046), (1, 2, 0.1411)]
        for (i, j, value) in expected {
            let cosine = SentenceEmbedder.cosine(vectors[i], vectors[j])
            #expect(abs(cosine - value) < 1e-3, "cosine(\(i + 1), \(j + 1)) = \(cosine), reference \(value)")
        }
        // Batching, padding and sorting by length do not change a text's vector.
        let texts = Self.sentences + ["A much longer sentence, padded against the short ones in its batch, about the stadium.", "Hi"]
        let together = embedder.embed(texts, batchSize: 64)
        let alone = embedder.embed(texts, batchSize: 1)
        for (a, b) in zip(together, alone) { #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 }) }
        for k in 0..<3 { #expect(zip(together[k], vectors[k]).allSatisfy { abs($0 - $1) < 1e-4 }) }
        #expect(embedder.embed([]).isEmpty)
    }

    // MARK: Loader errors

    /// A one-layer BERT directory (config.json + model.safetensors) whose tensors `edit` may change.
    static func tinyModel(in directory: URL, edit: (inout [String: Tensor]) -> Void = { _ in }) throws {
        let config = """
            {"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": 4, "num_hidden_layers": 1,
             "num_attention_heads": 2, "intermediate_size": 6, "vocab_size": 8, "max_position_embeddings": 6,
             "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "position_embedding_type": "absolute"}
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("config.json"))
        var rng = RandomGenerator(seed: 3)
        let reference = BertEncoder(
            BertConfiguration(layers: 1, hidden: 4, heads: 2, intermediate: 6, vocabularySize: 8, maxPositions: 6),
            rng: &rng)
        var tensors = reference.stateDictionary()
        tensors["pooler.dense.weight"] = Tensor.zeros([4, 4])  // a known extra: ignored
        edit(&tensors)
        try SafeTensors.write(.init(tensors: tensors), to: directory.appendingPathComponent("model.safetensors"))
    }

    @Test func tinyCheckpointLoadsExactly() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.tinyModel(in: directory)
        let encoder = try PretrainedBert.loadEncoder(directory: directory)
        #expect(
            encoder.configuration
                == BertConfiguration(
                    layers: 1, hidden: 4, heads: 2, intermediate: 6, vocabularySize: 8,
                    maxPositions: 6, dropout: 0.1, layerNormEpsilon: 1e-12))
        let written = try SafeTensors.read(directory.appendingPathComponent("model.safetensors")).tensors
        for (key, tensor) in encoder.namedTensors() { #expect(tensor.scalars == written[key]?.scalars, "\(key)") }
    }

    @Test func missingKeyIsAnErrorNamingFileAndKey() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = "encoder.layer.0.attention.self.value.weight"
        try Self.tinyModel(in: directory) { $0[key] = nil }
        let file = directory.appendingPathComponent("model.safetensors").path
        #expect(throws: ModuleError.missingKey(key, source: file)) { try PretrainedBert.loadEncoder(directory: directory) }
        #expect { try PretrainedBert.loadEncoder(directory: directory) } throws: { error in
            error.localizedDescription.contains(file) && error.localizedDescription.contains(key)
        }
    }

    @Test func wrongShapeIsAnErrorNamingFileAndKey() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = "encoder.layer.0.intermediate.dense.weight"
        try Self.tinyModel(in: directory) { $0[key] = Tensor.zeros([4, 6]) }  // transposed: Linear weights are [out, in]
        let file = directory.appendingPathComponent("model.safetensors").path
        #expect(throws: ModuleError.shapeMismatch(key, expected: [6, 4], found: [4, 6], source: file)) {
            try PretrainedBert.loadEncoder(directory: directory)
        }
    }

    @Test func unknownExtraTensorIsAnError() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.tinyModel(in: directory) { $0["encoder.layer.1.output.dense.bias"] = Tensor.zeros([4]) }
        let file = directory.appendingPathComponent("model.safetensors").path
        #expect(throws: ModuleError.unexpectedKey("encoder.layer.1.output.dense.bias", source: file)) {
            try PretrainedBert.loadEncoder(directory: directory)
        }
    }

    @Test func configurationErrorsNameFileAndKey() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.tinyModel(in: directory)
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"hidden_size": 4, "num_attention_heads": 2, "intermediate_size": 6, "vocab_size": 8}"#.utf8).write(to: config)
        #expect(throws: PretrainedModelError.badConfiguration(path: config.path, key: "num_hidden_layers", reason: "missing")) {
            try PretrainedBert.loadEncoder(directory: directory)
        }
        try Data(#"{"hidden_act": "gelu_new", "hidden_size": 4}"#.utf8).write(to: config)
        #expect { try PretrainedBert.configuration(from: config) } throws: { error in
            guard case .badConfiguration(config.path, "hidden_act", _) = error as? PretrainedModelError else { return false }
            return true
        }
        try Data(#"{"hidden_size": true, "num_attention_heads": 2}"#.utf8).write(to: config)
        #expect(
            throws: PretrainedModelError.badConfiguration(path: config.path, key: "hidden_size", reason: "expected a number, found true")
        ) {
            try PretrainedBert.configuration(from: config)
        }
        try Data("[1, 2]".utf8).write(to: config)
        #expect { try PretrainedBert.configuration(from: config) } throws: { error in
            guard case .unreadableConfiguration(config.path, _) = error as? PretrainedModelError else { return false }
            return true
        }
        try FileManager.default.removeItem(at: config)
        #expect(throws: PretrainedModelError.fileNotFound(path: config.path)) { try PretrainedBert.loadEncoder(directory: directory) }
    }

    @Test func missingDirectorySaysHowToInstall() throws {
        let path = "/nonexistent/winnow-\(UUID())/all-MiniLM-L6-v2"
        #expect { try SentenceEmbedder.miniLM(environment: ["WINNOW_MINILM_DIR": path]) } throws: { error in
            guard case .directoryNotFound(path, _) = error as? PretrainedModelError else { return false }
            return error.localizedDescription.contains("bash scripts/install-minilm.sh")
        }
        #expect(
            try PretrainedBert.miniLMDirectory(environment: [:]).path == PretrainedBert.defaultMiniLMDirectory,
            "without the variable the default directory is used (and installed)")
    }
}
