import ArgumentParser
import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import DataIO
import Foundation
import MetaLearning
import Tensors

/// `winnow bench`: speed figures for BENCHMARKS.md (never timed unit tests).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernels, meta-learning methods and the JSON parser on this machine.",
        subcommands: [
            BenchKernelsCommand.self, BenchMetaCommand.self, BenchDDPCommand.self, BenchJSONCommand.self,
            BenchEmbedCommand.self, BenchPruningCommand.self, BenchSuiteCommand.self,
        ])
}

struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "sgemm GFLOP/s, MLP and transformer-block train steps, elementwise GB/s, peak memory.")
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "One repeat per figure (smoke test).") var quick = false

    func run() throws {
        let report = KernelBenchmark.run(quick: quick)
        print(json ? try encodeJSON(report) : "BLAS threads: \(report.blasThreads)\n" + report.markdown)
    }
}

struct BenchJSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "json", abstract: "JSON parser throughput on a dataset member.")
    @Option(help: "Archive or file to parse.") var path = "Datasets/rt-sentiment-weak.tar.gz"
    @Option(help: "Member inside the archive.") var member = "rt-sentiment/train.json"
    @Option(help: "Timed runs (median reported).") var runs = 9
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let result = try JSONBenchmark.run(path: path, member: member, runs: runs)
        print(json ? try encodeJSON(result) : result.description)
    }
}

struct BenchEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "all-MiniLM-L6-v2 sentence-embedding throughput on dataset texts (texts/s, tokens/s).")
    @Option(help: "Dataset archive with texts.") var path = "Datasets/rt-sentiment-weak.tar.gz"
    @Option(help: "Split whose texts are embedded.") var split = "train"
    @Option(help: "Texts embedded at most (0: all).") var limit = 1_000
    @Option(help: "Texts per forward pass.") var batchSize = 64
    @Option(help: "Tokens per text at most, [CLS] and [SEP] included.") var maxLength = 128
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard limit >= 0, batchSize >= 1, maxLength >= 2 else {
            throw ValidationError("--limit must be ≥ 0, --batch-size ≥ 1, --max-length ≥ 2")
        }
    }

    func run() throws {
        let texts = try EmbeddingBenchmark.texts(path: path, split: split, limit: limit == 0 ? nil : limit)
        let report = try EmbeddingBenchmark.run(
            embedder: { try SentenceEmbedder.miniLM() }, texts: texts,
            batchSize: batchSize, maxLength: maxLength)
        print(json ? try encodeJSON(report) : "BLAS threads: \(report.blasThreads)\n" + report.markdown)
    }
}

/// Encodes a value as one line of JSON.
func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
