import ArgumentParser
import Benchmarks
import Foundation
import ResultStore
import Runtime

/// `winnow bench suite`: the kernels, the meta-learning methods over several model sizes and data-parallel scaling,
/// each as a child process of this binary, into one record (`suite.json`), its tables (`suite.md`) and its charts;
/// with `--markdown BENCHMARKS.md`, the file's generated block is replaced by the same tables.
struct BenchSuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Kernels, meta-learning methods over model sizes and data-parallel scaling: one record, tables and charts.",
        discussion: "Writes suite.json, suite.md, throughput-vs-memory.svg, memory-vs-parameters.svg, accuracy-vs-time.svg, "
            + "accuracy-vs-memory.svg, speedup-vs-ranks.svg, bench-meta.json and bench-ddp.json into --output. Every "
            + "measurement runs with one BLAS thread per process. Data parallel needs mpirun; without it the record says so.")

    @Option(help: "Folder for the record, the tables and the charts (created if missing; its parent must exist).") var output: String
    @Option(help: "Also replace the generated block of this Markdown file (between the suite's markers) with the tables.")
    var markdown: String?
    @Option(help: "Methods of the meta grid (comma-separated).") var methods = "finetune,sama,sama-na,darts,neumann,cg"
    @Option(help: "Hidden widths per model of the meta grid, models separated by ';' (at least 4 sizes for the memory chart).")
    var models = "256,256;512,512;1024,1024;2048,2048"
    @Option(help: "Base steps per speed measurement of the meta grid.") var steps = 120
    @Option(help: "Base steps of each quality run (the first model); 0 skips the quality runs.") var qualitySteps = 2_000
    @Option(help: "Methods of the data-parallel runs (comma-separated).") var ddpMethods = "finetune,sama"
    @Option(help: "Unrolls of the data-parallel runs (comma-separated).") var ddpUnrolls = "1,10"
    @Option(help: "Rank counts of the data-parallel runs, each against one rank (comma-separated).") var ddpRanks = "2"
    @Option(help: "Hidden widths of the data-parallel MLP.") var ddpHidden = "2048,2048"
    @Option(help: "Timed base steps of each data-parallel run.") var ddpSteps = 30
    @Option(help: "Seed of every data set, model and engine.") var seed: UInt64 = 0
    @Flag(help: "Tiny sizes throughout (a check that the suite runs, not a measurement).") var quick = false

    func validate() throws {
        _ = try parseMethods(methods)
        _ = try parseMethods(ddpMethods)
        _ = try parsePositiveIntegers(ddpUnrolls, option: "--ddp-unrolls")
        _ = try parsePositiveIntegers(ddpRanks, option: "--ddp-ranks")
        for model in models.split(separator: ";") where BenchMetaCommand.widths(String(model)).isEmpty {
            throw ValidationError("--models: '\(model)' must be positive hidden widths separated by ',' (models separated by ';')")
        }
        guard (10...10_000_000).contains(steps) else { throw ValidationError("--steps must be in 10…10000000, got \(steps)") }
        guard (0...10_000_000).contains(qualitySteps) else { throw ValidationError("--quality-steps must be in 0…10000000") }
        guard (1...10_000_000).contains(ddpSteps) else { throw ValidationError("--ddp-steps must be in 1…10000000") }
        let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--output \(output): the folder \(parent) does not exist")
        }
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("--output \(output): exists and is not a folder")
        }
        if let markdown {
            guard let text = try? String(contentsOfFile: markdown, encoding: .utf8) else {
                throw ValidationError("--markdown \(markdown): cannot read the file")
            }
            _ = try BenchmarkSuite.replacingGeneratedBlock(in: text, with: "", file: markdown)
        }
    }

    func run() throws {
        if !FileManager.default.fileExists(atPath: output) {
            do {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
            } catch {
                throw ApplicationError.unwritable(path: output, reason: error.localizedDescription)
            }
        }
        // Taken before anything is written, so the files the suite itself rewrites do not mark the tree as changed.
        let started = ISO8601DateFormatter().string(from: Date()), commit = CodeRevision.current()
        progress("suite: kernels")
        let kernels = try child(["bench", "kernels", "--json"] + (quick ? ["--quick"] : []), as: BenchmarkReport.self)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var kernelsOnEveryCore: BenchmarkReport?
        if cores > 1 {
            progress("suite: kernels on \(cores) threads")
            kernelsOnEveryCore = try child(
                ["bench", "kernels", "--json"] + (quick ? ["--quick"] : []), as: BenchmarkReport.self, blasThreads: cores)
        }
        progress("suite: meta-learning methods over \(quick ? 1 : models.split(separator: ";").count) model sizes")
        let meta = try child(
            [
                "bench", "meta", "--methods", quick ? "finetune,sama" : methods, "--models", quick ? "32,32" : models,
                "--unrolls", "1", "--threads", "1", "--steps", quick ? "10" : String(steps),
                "--quality-steps", quick ? "20" : String(qualitySteps), "--seed", String(seed), "--json", "--figures", output,
            ], as: [MetaBenchmark.Result].self)
        var ddp: [DataParallelBenchmark.Result] = []
        var ddpSkipped: String?
        if Self.mpirunAvailable() {
            progress("suite: data parallel on \(ddpRanks) ranks")
            ddp = try child(
                [
                    "bench", "ddp", "--methods", quick ? "sama" : ddpMethods, "--unrolls", quick ? "1" : ddpUnrolls,
                    "--ranks", quick ? "2" : ddpRanks, "--hidden", quick ? "32" : ddpHidden, "--steps", quick ? "2" : String(ddpSteps),
                    "--batch-size", quick ? "16" : "256", "--json", "--figures", output,
                ], as: [DataParallelBenchmark.Result].self)
        } else {
            ddpSkipped = "mpirun is not on the PATH"
        }
        let record = BenchmarkSuite.Record(
            started: started, commit: commit, environment: RunEnvironment.current(ranks: 1),
            command: (["winnow"] + CommandLine.arguments.dropFirst()).joined(separator: " "), seed: seed, kernels: kernels,
            kernelsOnEveryCore: kernelsOnEveryCore, meta: meta, ddp: ddp, ddpSkipped: ddpSkipped)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        for path in try BenchmarkFiles.write(
            [("suite.json", try encoder.encode(record)), ("suite.md", Data(BenchmarkSuite.markdown(record, figures: "").utf8))],
            to: output)
        {
            progress("wrote \(path)")
        }
        if let markdown { try replaceBlock(of: markdown, with: record) }
        print(BenchmarkSuite.markdown(record, figures: output))
    }

    /// Replaces `file`'s generated block with the record's tables, its charts linked relative to the file.
    private func replaceBlock(of file: String, with record: BenchmarkSuite.Record) throws {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ValidationError("--markdown \(file): cannot read the file (\(error.localizedDescription))")
        }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL.path + "/"
        let charts = URL(fileURLWithPath: output).standardizedFileURL.path
        let relative = charts.hasPrefix(folder) ? String(charts.dropFirst(folder.count)) : charts
        let updated = try BenchmarkSuite.replacingGeneratedBlock(
            in: text, with: BenchmarkSuite.markdown(record, figures: relative), file: file)
        do {
            try Data(updated.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw ApplicationError.unwritable(path: file, reason: error.localizedDescription)
        }
        progress("updated the generated block of \(file)")
    }

    /// Runs this binary with `arguments` and `blasThreads` BLAS threads, decoding the JSON on the last line of its output.
    private func child<Result: Decodable>(_ arguments: [String], as type: Result.Type, blasThreads: Int = 1) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = String(blasThreads)
        process.environment = environment
        return try runBenchmarkChild(process, what: "winnow \(arguments.prefix(2).joined(separator: " "))", as: type)
    }

    private func progress(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// Whether `mpirun` is an executable on the PATH.
    static func mpirunAvailable() -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/mpirun") }
    }
}
