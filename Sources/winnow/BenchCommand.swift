import ArgumentParser
import Applications
import DataIO
import Foundation
import MetaLearning
import Tensors

/// `winnow bench`: speed figures for BENCHMARKS.md (never timed unit tests).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernels, meta-learning methods and the JSON parser on this machine.",
        subcommands: [BenchKernelsCommand.self, BenchMetaCommand.self, BenchDDPCommand.self, BenchJSONCommand.self])
}

struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernels",
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

    func run() throws {
        print(try JSONBenchmark.run(path: path, member: member, runs: runs).description)
    }
}

/// Encodes a value as one line of JSON.
func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
