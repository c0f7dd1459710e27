import DataIO
import Foundation
import NoisyLabels
import Runtime
import Tensors

/// `winnow bench embed`: sentence-embedding throughput of a pretrained encoder (all-MiniLM-L6-v2) on real texts.
public enum EmbeddingBenchmark {
    /// Texts of one split of a dataset (texts-less records skipped), at most `limit` of them (all when nil).
    public static func texts(path: String, split: String, limit: Int?) throws -> [String] {
        let dataset = try Dataset.load(path: path)
        guard let records = dataset[split: split]?.records else {
            throw NoisyLabelDataError.missingSplit(path: path, split: split, key: "--split", available: dataset.splitNames)
        }
        let texts = records.compactMap(\.text)
        return limit.map { Array(texts.prefix($0)) } ?? texts
    }

    /// Loads the model, tokenizes `texts` and embeds them once (after a one-batch warm-up).
    public static func run(
        embedder load: () throws -> SentenceEmbedder, texts: [String], batchSize: Int = 64,
        maxLength: Int = 128
    ) rethrows -> BenchmarkReport {
        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let embedder = try load()
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        var tokenCount = 0
        let tokenizeSeconds = seconds {
            tokenCount = texts.reduce(0) { $0 + embedder.tokenizer.encode($1, maxLength: maxLength).count }
        }
        _ = embedder.embed(Array(texts.prefix(batchSize)), maxLength: maxLength, batchSize: batchSize)
        let embedSeconds = seconds { _ = embedder.embed(texts, maxLength: maxLength, batchSize: batchSize) }
        let n = Double(texts.count)
        let figures: [BenchmarkFigure] = [
            .init("load model", loadSeconds, "s"),
            .init(
                "tokenize", n / tokenizeSeconds, "texts/s",
                note: "\(tokenCount) tokens with [CLS]/[SEP], \(String(format: "%.1f", Double(tokenCount) / max(n, 1))) per text"),
            .init(
                "embed", n / embedSeconds, "texts/s",
                note: String(format: "%d texts in %.1f s, batch %d, max length %d", texts.count, embedSeconds, batchSize, maxLength)),
            .init("embed", Double(tokenCount) / embedSeconds, "tokens/s"),
            .init("peak memory", BenchmarkClock.peakResidentMiB, "MiB"),
        ]
        return BenchmarkReport(benchmark: "embed", blasThreads: BLAS.threads, figures: figures)
    }
}
