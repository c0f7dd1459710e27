import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import ArgumentParser
import Distributed
import Foundation
import MetaLearning

/// `winnow bench ddp`: one rank against each of `--ranks` (`mpirun -np N` of this binary), one BLAS thread each,
/// on the synthetic noisy-label MLP of `bench meta` or the noisy-label application's transformer.
struct BenchDDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddp",
        abstract: "Data-parallel throughput, speed-up and hidden all-reduce time (launches mpirun).",
        discussion: "Each configuration runs once on 1 rank and once under `mpirun -np N` for each N of --ranks, one BLAS thread "
            + "per rank. --check runs a small configuration and fails unless the ranks agree and match one process.")

    @Option(help: "Problem: mlp (synthetic noisy labels) or text-transformer (noisy-labels' transformer on --archive).")
    var model = DataParallelBenchmark.Model.mlp
    @Option(help: "Methods: finetune, sama, sama-na, darts, neumann, cg (comma-separated).") var methods = "finetune,sama"
    @Option(help: "Unrolls (comma-separated).") var unrolls = "1,10"
    @Option(help: "Hidden widths of the MLP (comma-separated).") var hidden = "2048,2048"
    @OptionGroup(title: "Transformer (--model text-transformer)") var text: TextModelOptions
    @Option(help: "Global batch size (a multiple of every --ranks).") var batchSize = 256
    @Option(help: "Meta batch size, the same whole batch on every rank (default: 100 for mlp, 32 for text-transformer).")
    var metaBatchSize: Int?
    @Option(help: "Timed base steps.") var steps = 30
    @Option(help: "Ranks of the data-parallel runs (comma-separated; --check uses the largest).") var ranks = "2"
    @Option(help: "All-reduce bucket size in MB.") var bucketMb: Double = 4
    @Flag(inversion: .prefixedNo, help: "Test pending all-reduces each time a gradient is ready (MPI progresses only inside MPI calls).")
    var progress = true
    @OptionGroup(title: "Meta learning") var meta: MetaOptions
    @Flag(help: "Reduce embedding tables by the rows a batch touches, after backward, instead of whole in the buckets.")
    var sparseEmbeddings = false
    @Flag(help: "Small correctness run: 1 rank vs --ranks ranks must agree; exits non-zero otherwise.") var check = false
    @Flag(help: "Print every configuration's result as one JSON array instead of the table.") var json = false
    @Option(help: "Also write every row (bench-ddp.json) and the speed-up vs ranks chart (speedup-vs-ranks.svg) into this existing folder.")
    var figures: String?
    @OptionGroup var singleRun: SingleRunOptions

    func validate() throws {
        _ = try parseMethods(methods)
        _ = try parsePositiveIntegers(unrolls, option: "--unrolls")
        for count in try rankCounts() where !(1...1_024).contains(count) {
            throw ValidationError("--ranks must be in 1…1024, got \(count)")
        }
        guard (1...1_000_000).contains(batchSize) else { throw ValidationError("--batch-size must be in 1…1000000, got \(batchSize)") }
        guard bucketMb.isFinite, bucketMb > 0, bucketMb <= 4_096 else { throw ValidationError("--bucket-mb must be in (0, 4096]") }
        for count in try rankCounts() where batchSize % count != 0 {
            throw ValidationError("--batch-size \(batchSize) must be a multiple of --ranks \(count)")
        }
        guard (1...10_000_000).contains(steps) else { throw ValidationError("--steps must be in 1…10000000, got \(steps)") }
        guard (1...1_000_000).contains(metaBatchSize ?? 1) else { throw ValidationError("--meta-batch-size must be in 1…1000000") }
        guard !hidden.split(separator: ",").contains(where: { (Int($0) ?? 0) < 1 }) else {
            throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'")
        }
        if let figures {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: figures, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--figures \(figures): no such folder (create it first)")
            }
        }
        if model == .textTransformer, !FileManager.default.fileExists(atPath: text.archive) {
            throw ValidationError("--archive \(text.archive): no such file (run from the repository root or pass the path)")
        }
    }

    /// The rank counts of `--ranks`, in the order given.
    private func rankCounts() throws -> [Int] { try parsePositiveIntegers(ranks, option: "--ranks") }

    private var resolvedMetaBatchSize: Int { metaBatchSize ?? (model == .mlp ? 100 : 32) }

    /// The configuration of one child run: this command's problem and options for `method` at `unroll`.
    private func configuration(_ method: MetaMethod, unroll: Int) -> DataParallelBenchmark.Configuration {
        var meta = meta.settings(method, unroll: unroll, defaults: DataParallelBenchmark.defaultMeta)
        meta.batchSize = resolvedMetaBatchSize
        var c = DataParallelBenchmark.Configuration(meta: meta)
        c.model = model
        c.hidden = hidden.split(separator: ",").compactMap { Int($0) }
        c.text = text.settings
        c.steps = steps
        c.batchSize = batchSize
        c.bucketMegabytes = bucketMb
        c.progressDuringBackward = progress
        c.sparseRowReduction = sparseEmbeddings
        return c
    }

    func run() throws {
        if singleRun.single {
            let c = try singleRun.configuration(DataParallelBenchmark.Configuration.self) {
                configuration(try parseMethods(methods)[0], unroll: try parsePositiveIntegers(unrolls, option: "--unrolls")[0])
            }
            if check { try CollectiveSelfTest.run(World.communicator) }
            let result = try DataParallelBenchmark.run(c, communicator: World.communicator)
            if World.communicator.isRoot { print(try encodeJSON(result)) }
            return
        }
        if check { return try runCheck() }
        let counts = try rankCounts().filter { $0 != 1 }
        var rows: [DataParallelBenchmark.Result] = []
        let unrollList = try parsePositiveIntegers(unrolls, option: "--unrolls")
        for method in try parseMethods(methods) {
            for unroll in unrollList {
                if method == .finetune && unroll != unrollList.first { continue }
                rows.append(try child(configuration(method, unroll: unroll), ranks: 1))
                for count in counts { rows.append(try child(configuration(method, unroll: unroll), ranks: count)) }
            }
        }
        if let figures {
            for path in try DataParallelFigures.write(rows, to: figures) { FileHandle.standardError.write(Data("wrote \(path)\n".utf8)) }
        }
        if json {
            print(try encodeJSON(rows))
            return
        }
        printTable(rows)
    }

    private func printTable(_ rows: [DataParallelBenchmark.Result]) {
        print(
            "Buckets \(bucketMb) MB, MPI_Test from the gradient-ready hook \(progress ? "on" : "off"), "
                + "embedding tables reduced \(sparseEmbeddings ? "by the rows a batch touches" : "whole"), 1 BLAS thread per rank.\n")
        if model == .textTransformer { print("Meta batch \(resolvedMetaBatchSize), dropout 0, \(text.archive).") }
        print(DataParallelFigures.table(rows))
    }

    /// One rank and `ranks` ranks on a small meta-learning configuration: λ and θ must agree to float rounding.
    /// SAMA on the MLP; DARTS on the transformer, because SAMA's Adam-adapted direction turns reduction-order
    /// rounding on rarely updated embedding rows into sign flips of λ's Adam steps (|Δλ| ~ 2e-3 after one meta
    /// step with a 2,000-word vocabulary, < 1e-6 with 10 words), while DARTS agrees to 2e-6 with MLC.
    private func runCheck() throws {
        let checkMethod: MetaMethod = model == .mlp ? .sama : .darts
        let ranks = try rankCounts().max() ?? 2
        var c = configuration(checkMethod, unroll: 2)
        c.steps = 12
        c.batchSize = 16 * ranks
        c.meta.batchSize = 32
        if model == .mlp {
            c.hidden = [256]
        } else {
            c.text.layers = 1; c.text.width = 32; c.text.heads = 2; c.text.intermediate = 64; c.text.maxLength = 24
            c.text.vocabularySize = 2_000
        }
        let one = try child(c, ranks: 1, check: true)
        let many = try child(c, ranks: ranks, check: true)
        let lambdaDifference = zip(one.lambda, many.lambda).map { abs($0 - $1) }.max() ?? .infinity
        let normDifference = abs(one.thetaNorm - many.thetaNorm) / one.thetaNorm
        print(
            "ddp check (\(model.rawValue), \(checkMethod.rawValue)): collectives self-test passed; \(ranks) ranks vs 1: max |Δλ| "
                + "\(lambdaDifference), relative Δ‖θ‖ \(normDifference); replicas verified identical (checksum \(many.checksum))"
        )
        guard one.lambda.count == many.lambda.count, lambdaDifference < 1e-4, normDifference < 1e-5 else {
            throw ValidationError(
                "ddp check failed: \(ranks) ranks differ from one process "
                    + "(max |Δλ| \(lambdaDifference), relative Δ‖θ‖ \(normDifference))")
        }
    }

    /// Runs `c` on `ranks` ranks (`mpirun` for more than one); each child gets the configuration as one JSON
    /// argument.
    private func child(_ c: DataParallelBenchmark.Configuration, ranks: Int, check: Bool = false) throws -> DataParallelBenchmark.Result {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let arguments = ["bench", "ddp", "--single", "--config", try encodeJSON(c)] + (check ? ["--check"] : [])
        let (method, unroll) = (c.meta.method.rawValue, c.meta.unroll)
        let process = Process()
        if ranks == 1 {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", String(ranks), executable] + arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        for key in environment.keys where key.hasPrefix("OMPI_") || key.hasPrefix("PMIX_") { environment[key] = nil }
        process.environment = environment
        let result = try runBenchmarkChild(
            process, what: "bench ddp child (\(method), \(ranks) rank\(ranks == 1 ? "" : "s"))",
            as: DataParallelBenchmark.Result.self)
        FileHandle.standardError.write(
            Data("  \(method) unroll \(unroll) ranks \(ranks): \(benchmarkFigure(result.samplesPerSecond)) samples/s\n".utf8))
        return result
    }
}
