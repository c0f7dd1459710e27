import DataIO
import Foundation
import NeuralNetworks
import Recipes
import Runtime
import Tensors

/// Frozen sentence embeddings of every text of a dataset, as a "tokenizer" that maps a text to its row in
/// the table (`FeatureTableClassifier` reads the rows). The embeddings come from the pretrained
/// all-MiniLM-L6-v2 encoder and are cached on disk, keyed by the texts, the model and the maximum length,
/// so only the first run on a dataset pays for the encoder.
struct SentenceFeatureTable: TextTokenizer {
    /// Row of each distinct text.
    let rows: [String: Int]
    /// `[rows, width]`, row-major.
    let values: [Float]
    let width: Int

    var vocabularySize: Int { rows.count }

    /// The row of a text as a one-id list. Every text of the dataset was embedded when the table was built.
    func encode(_ text: String) -> [Int] {
        guard let row = rows[text] else { preconditionFailure("SentenceFeatureTable: a text that was not embedded") }
        return [row]
    }

    /// The embeddings of `texts` (each embedded when the table was built), `[texts.count, width]`.
    func rows(of texts: [String]) -> Tensor {
        var values: [Float] = []
        values.reserveCapacity(texts.count * width)
        for text in texts {
            let row = encode(text)[0]
            values += self.values[(row * width)..<((row + 1) * width)]
        }
        return Tensor(shape: [texts.count, width], storage: values)
    }

    /// The table as a constant tensor.
    var tensor: Tensor { Tensor(shape: [rows.count, width], storage: values) }

    /// Embeds the distinct `texts` (or reads them from `cacheDirectory`) with the MiniLM encoder, pooling `layers`.
    static func build(
        texts: [String], maxLength: Int, layers: SentenceEmbedder.Layers = .last, cacheDirectory: URL?, log: (String) -> Void
    ) throws -> SentenceFeatureTable {
        var rows: [String: Int] = [:]
        var distinct: [String] = []
        for text in texts where rows[text] == nil {
            rows[text] = distinct.count
            distinct.append(text)
        }
        // The width comes from config.json; the encoder itself is loaded only when something must be embedded.
        let modelDirectory = try PretrainedBert.miniLMDirectory()
        let configuration = try PretrainedBert.configuration(from: modelDirectory.appendingPathComponent("config.json"))
        let width = SentenceEmbedder.dimension(layers, of: configuration)
        // The model's identity in the key: its directory and the size of its weights file (the layers pooled change
        // the width, which the key holds).
        let weights = modelDirectory.appendingPathComponent("model.safetensors").path
        let weightBytes = (try? FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int) ?? 0
        let model = "\(modelDirectory.standardizedFileURL.path)#\(weightBytes)"
        let cacheFile = cacheDirectory.map { directory in
            directory.appendingPathComponent(
                String(
                    format: "minilm-%016llx.f32",
                    cacheKey(distinct, model: model, maxLength: maxLength, width: width)))
        }
        if let cacheFile, let values = readCache(cacheFile, count: distinct.count * width, log: log) {
            log("sentence embeddings: \(distinct.count) texts read from \(cacheFile.path)")
            return SentenceFeatureTable(rows: rows, values: values, width: width)
        }
        let embedder = try SentenceEmbedder(directory: modelDirectory)
        let start = Date()
        let vectors = embedder.embed(distinct, maxLength: maxLength, layers: layers)
        let values = vectors.flatMap { $0 }
        let seconds = Date().timeIntervalSince(start)
        log(
            String(
                format: "sentence embeddings: %d texts embedded with all-MiniLM-L6-v2 (%@ layers, %d wide) in %.0f s (%.0f texts/s)",
                distinct.count, layers.rawValue, width, seconds, Double(distinct.count) / max(seconds, 1e-9)))
        guard values.count == distinct.count * width, values.allSatisfy(\.isFinite) else {
            throw SentenceFeatureError.invalidEmbeddings(count: values.count, expected: distinct.count * width)
        }
        if let cacheFile { writeCache(values, to: cacheFile, log: log) }
        return SentenceFeatureTable(rows: rows, values: values, width: width)
    }

    /// FNV-1a over the model's identity, the maximum length, the width and every text (NUL-separated).
    static func cacheKey(_ texts: [String], model: String, maxLength: Int, width: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 } }
        mix("\(model)/\(maxLength)/\(width)".utf8)
        for text in texts { mix([0]); mix(text.utf8) }
        return hash
    }

    /// The cached floats, or nil (and a log line) when the file is missing or has the wrong size.
    static func readCache(_ url: URL, count: Int, log: (String) -> Void) -> [Float]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        guard data.count == count * MemoryLayout<Float>.size else {
            log("sentence embeddings: ignoring \(url.path): \(data.count) bytes, expected \(count * MemoryLayout<Float>.size)")
            return nil
        }
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        guard values.allSatisfy(\.isFinite) else {
            log("sentence embeddings: ignoring \(url.path): it holds non-finite values")
            return nil
        }
        return values
    }

    /// Writes the cache atomically (a temporary file renamed into place); a failure only costs a recompute later.
    static func writeCache(_ values: [Float], to url: URL, log: (String) -> Void) {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let data = values.withUnsafeBufferPointer { Data(buffer: $0) }
            try data.write(to: url, options: .atomic)
        } catch {
            log("sentence embeddings: could not write the cache \(url.path): \(error.localizedDescription)")
        }
    }
}

/// Problems building sentence features.
enum SentenceFeatureError: Error, LocalizedError, Equatable {
    case invalidEmbeddings(count: Int, expected: Int)

    var errorDescription: String? {
        switch self {
        case let .invalidEmbeddings(count, expected):
            "sentence embeddings: the encoder returned \(count) values (expected \(expected)) or non-finite ones"
        }
    }
}
