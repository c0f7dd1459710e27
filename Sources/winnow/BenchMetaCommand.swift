import ArgumentParser
import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import Foundation
import MetaLearning

/// `winnow bench meta`: every method on the synthetic noisy-label problem, one configuration per child
/// process (so peak memory is each method's own), at the requested unrolls, models and BLAS threads.
struct BenchMetaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Throughput, meta-step time, peak memory and quality of each hypergradient method.")

    @Option(help: "Methods: finetune, sama, sama-na, darts, neumann, cg (comma-separated).")
    var methods = "finetune,sama,sama-na,darts,neumann,cg"
    @Option(help: "Unrolls (comma-separated).") var unrolls = "1,10"
    @Option(help: "Hidden widths per model, models separated by ';' (e.g. '512,512;2048,2048').") var models = "512,512;2048,2048"
    @Option(help: "BLAS threads (comma-separated).") var threads = "1,2"
    @Option(help: "Base steps per speed measurement.") var steps = 120
    @Option(help: "Base steps for the quality run (small model, 1 BLAS thread); 0 skips it.") var qualitySteps = 2_000
    @Option(help: "Unroll of the quality run.") var qualityUnroll = 1
    @OptionGroup(title: "Meta learning") var meta: MetaOptions
    @Option(help: "Seed of the data, the models and the engine.") var seed: UInt64 = 0
    @Option(help: "SAMA: floats per block of the streamed meta gradient (default: the engine's, 2^18).") var blockElements: Int?
    @Flag(help: "Only the quality runs (skip the speed grid).") var skipSpeed = false
    @Option(
        help: ArgumentHelp(
            "Write the quality run's data, initial parameters and first --quality-steps batches to this folder as raw float32 "
                + "files (for scripts/analysis/first_order_reweighting.py --from-dump), then stop."))
    var dumpProblem: String?
    @OptionGroup var singleRun: SingleRunOptions
    @Flag(help: "With --single: also measure test accuracy and weights.") var quality = false
    @Flag(help: "Print every configuration's result (speed grid, then quality runs) as one JSON array instead of tables.")
    var json = false
    @Option(
        help: ArgumentHelp(
            "Also write every row (bench-meta.json) and the charts (throughput-vs-memory.svg, memory-vs-parameters.svg: "
                + "the first thread count and unroll of the grid; accuracy-vs-time.svg, accuracy-vs-memory.svg: the quality runs, "
                + "unless --quality-steps 0) into this existing folder."))
    var figures: String?

    func validate() throws {
        _ = try parseMethods(methods)
        _ = try parsePositiveIntegers(unrolls, option: "--unrolls")
        _ = try parsePositiveIntegers(threads, option: "--threads")
        guard (10...10_000_000).contains(steps) else { throw ValidationError("--steps must be in 10…10000000, got \(steps)") }
        guard (0...10_000_000).contains(qualitySteps) else { throw ValidationError("--quality-steps must be in 0…10000000") }
        _ = try parsePositiveIntegers(String(qualityUnroll), option: "--quality-unroll")
        if let blockElements, blockElements < 1 { throw ValidationError("--block-elements must be at least 1, got \(blockElements)") }
        for model in models.split(separator: ";") where Self.widths(String(model)).isEmpty {
            throw ValidationError("--models: '\(model)' must be positive hidden widths separated by ',' (models separated by ';')")
        }
        if let figures {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: figures, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--figures \(figures): no such folder (create it first)")
            }
            guard !skipSpeed else { throw ValidationError("--figures draws the speed grid: it does not combine with --skip-speed") }
        }
        if dumpProblem != nil {
            guard !singleRun.single else {
                throw ValidationError("--dump-problem writes files and stops: it does not combine with --single")
            }
            guard qualitySteps >= 1 else {
                throw ValidationError("--dump-problem writes the first --quality-steps batches: give at least 1")
            }
        }
    }

    func run() throws {
        if singleRun.single {
            let c = try singleRun.configuration(MetaBenchmark.Configuration.self) {
                configuration(
                    try parseMethods(methods)[0], unroll: try parsePositiveIntegers(unrolls, option: "--unrolls")[0],
                    model: models.split(separator: ";").first.map(String.init) ?? "512,512", steps: steps, quality: quality)
            }
            print(try encodeJSON(try MetaBenchmark.run(c)))
            return
        }
        let modelList = models.split(separator: ";").map(String.init)
        if let dumpProblem { return try dump(to: dumpProblem, model: modelList.first ?? "512,512") }
        var rows: [MetaBenchmark.Result] = []
        for model in skipSpeed ? [] : modelList {
            for threadCount in threads.split(separator: ",") {
                for unroll in unrolls.split(separator: ",") {
                    for method in try parseMethods(methods) {
                        let result = try child(
                            method: method, unroll: Int(unroll) ?? 1, model: model, threads: String(threadCount),
                            steps: steps, quality: false)
                        rows.append(result)
                        FileHandle.standardError.write(Data("  \(describe(result))\n".utf8))
                    }
                }
            }
        }
        let small = modelList.first ?? "512,512"
        let qualityRows =
            qualitySteps > 0
            ? try parseMethods(methods).map {
                try child(method: $0, unroll: qualityUnroll, model: small, threads: "1", steps: qualitySteps, quality: true)
            } : []
        if let figures {
            for path in try MetaBenchmarkFigures.write(rows + qualityRows, to: figures) {
                FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
            }
        }
        if json {
            print(try encodeJSON(rows + qualityRows))
            return
        }
        if !skipSpeed { printSpeed(rows) }
        guard !qualityRows.isEmpty else { return }
        print(
            "\nQuality after \(qualitySteps) base steps (model \(small), unroll \(qualityUnroll), 1 BLAS thread, normalisation "
                + "\((meta.normalization ?? MetaBenchmark.defaultMeta.normalization).rawValue), α = \(meta.alpha) (SAMA, SAMA-NA and "
                + "DARTS), base update along v "
                + "\(meta.baseUpdate ? "on" : "off")\(meta.touchedOnly ? ", touched-only perturbation" : ""), meta inputs "
                + "\(meta.freezeMetaInputs ? "frozen" : "recomputed") in the ± passes, warm-up \(meta.warmup) base steps, "
                + "seed \(seed)):\n"
        )
        print(MetaBenchmarkTables.quality(qualityRows))
    }

    /// The hidden widths of one model of `--models` ("512,512"), or [] unless every one is a positive integer.
    static func widths(_ model: String) -> [Int] {
        let widths = model.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        return widths.allSatisfy { $0 > 0 } ? widths : []
    }

    private func dump(to path: String, model: String) throws {
        let directory = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("--dump-problem \(path): exists and is not a folder")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("--dump-problem \(path): cannot create the folder (\(error.localizedDescription))")
        }
        var c = MetaBenchmark.Configuration(meta: meta.settings(.finetune, unroll: 1, defaults: MetaBenchmark.defaultMeta))
        c.hidden = Self.widths(model)
        c.seed = seed
        let files = try MetaBenchmark.dumpProblem(c, steps: qualitySteps, to: directory)
        print(
            "Wrote \(files.count) files to \(path) (seed \(seed), model 784-\(c.hidden.map(String.init).joined(separator: "-"))-10, "
                + "\(qualitySteps) batches)."
        )
        print(
            "Replay it (DARTS with frozen inputs, as `--freeze-meta-inputs --methods darts --quality-steps \(qualitySteps)`): "
                + "python3 scripts/analysis/first_order_reweighting.py --from-dump \(path) --hidden "
                + "\(c.hidden.map(String.init).joined(separator: " ")) "
                + "--steps \(qualitySteps) --method darts --difference frozen --alpha \(meta.alpha) --darts-scale 1")
    }

    private func printSpeed(_ rows: [MetaBenchmark.Result]) {
        print(MetaBenchmarkTables.speed(rows))
        // As the children report it, so a table always says which block size SAMA's rows ran with.
        let blocks = Set(rows.filter { $0.method == "sama" }.map(\.metaGradientBlockElements)).sorted()
        if !blocks.isEmpty {
            print("\nSAMA's streamed meta gradient: blocks of \(blocks.map(String.init).joined(separator: ", ")) floats.")
        }
        // Neumann and CG run with their default single iteration here (`MetaSettings.iterations`).
        let checks = MetaBenchmark.targetChecks(rows, freezeMetaInputs: meta.freezeMetaInputs)
        guard !checks.isEmpty else { return }
        print(
            "\nTargets (memory: added by training; passes: meta fwd+bwd and two base forwards for the finite-difference methods, six "
                + "fwd+bwd for Neumann and CG):\n"
        )
        print("| target | configuration | measured | verdict |")
        print("|---|---|---|---|")
        for c in checks { print("| \(c.target) | \(c.configuration) | \(c.measured) | \(c.met ? "met" : "**missed**") |") }
    }

    /// One configuration from this command's options.
    private func configuration(_ method: MetaMethod, unroll: Int, model: String, steps: Int, quality: Bool) -> MetaBenchmark.Configuration {
        var c = MetaBenchmark.Configuration(meta: meta.settings(method, unroll: unroll, defaults: MetaBenchmark.defaultMeta))
        c.hidden = Self.widths(model)
        c.steps = steps
        c.measureQuality = quality
        c.seed = seed
        c.metaGradientBlockElements = blockElements
        return c
    }

    /// Runs one configuration in a child process (so peak memory is its own) with `threads` BLAS threads; the
    /// child gets the whole configuration as one JSON argument.
    private func child(
        method: MetaMethod, unroll: Int, model: String, threads: String, steps: Int, quality: Bool
    ) throws -> MetaBenchmark.Result {
        let c = configuration(method, unroll: unroll, model: model, steps: steps, quality: quality)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["bench", "meta", "--single", "--config", try encodeJSON(c)]
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = threads
        process.environment = environment
        return try runBenchmarkChild(process, what: "benchmark child for \(method.rawValue)", as: MetaBenchmark.Result.self)
    }

    private func describe(_ r: MetaBenchmark.Result) -> String {
        "\(r.method) unroll \(r.unroll) threads \(r.blasThreads) model \(r.hidden): \(benchmarkFigure(r.baseSamplesPerSecond)) "
            + "samples/s, meta step \(r.metaStepMilliseconds.map(benchmarkFigure) ?? "–") ms, \(benchmarkFigure(r.peakResidentMiB)) MiB"
    }
}
