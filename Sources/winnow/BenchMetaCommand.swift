import ArgumentParser
import Applications
import Foundation
import MetaLearning

/// `winnow bench meta`: every method on the synthetic noisy-label problem, one configuration per child
/// process (so peak memory is each method's own), at the requested unrolls, models and BLAS threads.
struct BenchMetaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "meta",
        abstract: "Throughput, meta-step time, peak memory and quality of each hypergradient method.")

    @Option(help: "Methods: finetune, sama, sama-na, darts, neumann, cg (comma-separated).")
    var methods = "finetune,sama,sama-na,darts,neumann,cg"
    @Option(help: "Unrolls (comma-separated).") var unrolls = "1,10"
    @Option(help: "Hidden widths per model, models separated by ';' (e.g. '512,512;2048,2048').") var models = "512,512;2048,2048"
    @Option(help: "BLAS threads (comma-separated).") var threads = "1,2"
    @Option(help: "Base steps per speed measurement.") var steps = 120
    @Option(help: "Base steps for the quality run (small model, 1 BLAS thread); 0 skips it.") var qualitySteps = 2_000
    @Option(help: "Unroll of the quality run.") var qualityUnroll = 1
    @Option(help: "SAMA / SAMA-NA finite-difference radius α.") var alpha: Float = 1
    @Flag(inversion: .prefixedNo, help: "SAMA / SAMA-NA: leave θ at θ − εv after each meta step (the paper's choice).")
    var baseUpdate = true
    @Option(help: "Weight normalisation: mean or weight-sum.") var normalization = "weight-sum"
    @Flag(help: "SAMA / SAMA-NA / DARTS: perturb only the parameters the last base gradient touched (zero v elsewhere).")
    var touchedOnly = false
    @Flag(inversion: .prefixedNo, help: "SAMA / SAMA-NA / DARTS: feed the meta net the same inputs in both perturbed passes (detached from θ, as the exact mixed product sees them); off: each pass recomputes them, as in the paper's implementation.")
    var freezeMetaInputs = false
    @Option(help: "Base steps before the first meta step.") var warmup = 0
    @Option(help: "Seed of the data, the models and the engine.") var seed: UInt64 = 0
    @Option(help: "SAMA: floats per block of the streamed meta gradient (default: the engine's, 2^18).") var blockElements: Int?
    @Flag(help: "Only the quality runs (skip the speed grid).") var skipSpeed = false
    @Option(help: "Write the quality run's data, initial parameters and first --quality-steps batches to this folder as raw float32 files (for scripts/analysis/first_order_reweighting.py --from-dump), then stop.")
    var dumpProblem: String?
    @Flag(help: "Run one configuration in this process and print it as JSON (used by the parent).") var single = false
    @Flag(help: "With --single: also measure test accuracy and weights.") var quality = false

    func parsedMethod(_ name: String) throws -> HypergradientMethod {
        switch name {
        case "finetune": .finetune
        case "sama": .sama(alpha: alpha, baseUpdateAlongV: baseUpdate)
        case "sama-na": .samaNA(alpha: alpha, baseUpdateAlongV: baseUpdate)
        case "darts": .darts()
        case "neumann": .neumann()
        case "cg": .cg()
        default: throw ValidationError("unknown method '\(name)' (finetune, sama, sama-na, darts, neumann, cg)")
        }
    }

    func validate() throws {
        for m in methods.split(separator: ",") { _ = try parsedMethod(String(m)) }
        guard ["mean", "weight-sum"].contains(normalization) else { throw ValidationError("--normalization must be mean or weight-sum") }
        guard steps >= 10 else { throw ValidationError("--steps must be at least 10") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if let blockElements, blockElements < 1 { throw ValidationError("--block-elements must be at least 1, got \(blockElements)") }
        for model in models.split(separator: ";") where Self.widths(String(model)).isEmpty {
            throw ValidationError("--models: '\(model)' must be positive hidden widths separated by ',' (models separated by ';')")
        }
        if dumpProblem != nil {
            guard !single else { throw ValidationError("--dump-problem writes files and stops: it does not combine with --single") }
            guard qualitySteps >= 1 else { throw ValidationError("--dump-problem writes the first --quality-steps batches: give at least 1") }
        }
    }

    func run() throws {
        if single {
            var c = MetaBenchmark.Configuration(method: try parsedMethod(methods))
            c.unroll = Int(unrolls) ?? 1
            c.hidden = Self.widths(models)
            c.steps = steps
            c.normalization = normalization == "mean" ? .mean : .weightSum
            c.measureQuality = quality
            c.perturbTouchedOnly = touchedOnly
            c.freezeMetaInputs = freezeMetaInputs
            c.warmupSteps = warmup
            c.seed = seed
            c.metaGradientBlockElements = blockElements
            print(try encodeJSON(try MetaBenchmark.run(c)))
            return
        }
        let modelList = models.split(separator: ";").map(String.init)
        if let dumpProblem { return try dump(to: dumpProblem, model: modelList.first ?? "512,512") }
        var rows: [MetaBenchmark.Result] = []
        for model in skipSpeed ? [] : modelList {
            for threadCount in threads.split(separator: ",") {
                for unroll in unrolls.split(separator: ",") {
                    for method in methods.split(separator: ",") {
                        let result = try child(method: String(method), unroll: String(unroll), model: model, threads: String(threadCount),
                                               steps: steps, quality: false)
                        rows.append(result)
                        FileHandle.standardError.write(Data("  \(describe(result))\n".utf8))
                    }
                }
            }
        }
        if !skipSpeed { printSpeed(rows) }
        guard qualitySteps > 0, let small = modelList.first else { return }
        print("\nQuality after \(qualitySteps) base steps (model \(small), unroll \(qualityUnroll), 1 BLAS thread, normalisation \(normalization), α = \(alpha), base update along v \(baseUpdate ? "on" : "off")\(touchedOnly ? ", touched-only perturbation" : ""), meta inputs \(freezeMetaInputs ? "frozen" : "recomputed") in the ± passes, warm-up \(warmup) base steps, seed \(seed)):\n")
        print("| method | test accuracy | mean weight clean | mean weight corrupted |")
        print("|---|---:|---:|---:|")
        for method in methods.split(separator: ",") {
            let r = try child(method: String(method), unroll: String(qualityUnroll), model: small, threads: "1", steps: qualitySteps, quality: true)
            print("| \(r.method) | \(benchmarkFigure(100 * (r.testAccuracy ?? 0)))% | \(benchmarkFigure(r.cleanWeight ?? 0)) | \(benchmarkFigure(r.corruptedWeight ?? 0)) |")
        }
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
        var c = MetaBenchmark.Configuration(method: .finetune)
        c.hidden = Self.widths(model)
        c.seed = seed
        let files = try MetaBenchmark.dumpProblem(c, steps: qualitySteps, to: directory)
        print("Wrote \(files.count) files to \(path) (seed \(seed), model 784-\(c.hidden.map(String.init).joined(separator: "-"))-10, \(qualitySteps) batches).")
        print("Replay it (DARTS with frozen inputs, as `--freeze-meta-inputs --methods darts --quality-steps \(qualitySteps)`): "
              + "python3 scripts/analysis/first_order_reweighting.py --from-dump \(path) --hidden \(c.hidden.map(String.init).joined(separator: " ")) "
              + "--steps \(qualitySteps) --method darts --difference frozen --alpha 0.01 --darts-scale 1")
    }

    private func printSpeed(_ rows: [MetaBenchmark.Result]) {
        print("| method | model (params) | unroll | BLAS threads | base samples/s | meta step ms | fwd ms | fwd+bwd ms | peak RSS MiB | added by training MiB |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows {
            print("| \(r.method) | \(r.hidden.map(String.init).joined(separator: "-")) (\(r.parameters)) | \(r.unroll) | \(r.blasThreads) | \(benchmarkFigure(r.baseSamplesPerSecond)) | \(r.metaStepMilliseconds.map(benchmarkFigure) ?? "–") | \(benchmarkFigure(r.forwardMilliseconds)) | \(benchmarkFigure(r.forwardBackwardMilliseconds)) | \(benchmarkFigure(r.peakResidentMiB)) | \(benchmarkFigure(r.trainingMiB)) |")
        }
        // As the children report it, so a table always says which block size SAMA's rows ran with.
        let blocks = Set(rows.filter { $0.method == "sama" }.map(\.metaGradientBlockElements)).sorted()
        if !blocks.isEmpty { print("\nSAMA's streamed meta gradient: blocks of \(blocks.map(String.init).joined(separator: ", ")) floats.") }
        // Neumann and CG run with their default single iteration here (`parsedMethod`).
        let checks = MetaBenchmark.targetChecks(rows, freezeMetaInputs: freezeMetaInputs)
        guard !checks.isEmpty else { return }
        print("\nTargets (memory: added by training; passes: meta fwd+bwd and two base forwards for the finite-difference methods, six fwd+bwd for Neumann and CG):\n")
        print("| target | configuration | measured | verdict |")
        print("|---|---|---|---|")
        for c in checks { print("| \(c.target) | \(c.configuration) | \(c.measured) | \(c.met ? "met" : "**missed**") |") }
    }

    private func child(method: String, unroll: String, model: String, threads: String, steps: Int, quality: Bool) throws -> MetaBenchmark.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var arguments = ["bench", "meta", "--single", "--methods", method, "--unrolls", unroll, "--models", model,
                         "--steps", String(steps), "--alpha", String(alpha), "--normalization", normalization,
                         baseUpdate ? "--base-update" : "--no-base-update"]
        if quality { arguments.append("--quality") }
        if touchedOnly { arguments.append("--touched-only") }
        arguments += [freezeMetaInputs ? "--freeze-meta-inputs" : "--no-freeze-meta-inputs", "--warmup", String(warmup), "--seed", String(seed)]
        if let blockElements { arguments += ["--block-elements", String(blockElements)] }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = threads
        process.environment = environment
        return try runBenchmarkChild(process, what: "benchmark child for \(method)", as: MetaBenchmark.Result.self)
    }

    private func describe(_ r: MetaBenchmark.Result) -> String {
        "\(r.method) unroll \(r.unroll) threads \(r.blasThreads) model \(r.hidden): \(benchmarkFigure(r.baseSamplesPerSecond)) samples/s, meta step \(r.metaStepMilliseconds.map(benchmarkFigure) ?? "–") ms, \(benchmarkFigure(r.peakResidentMiB)) MiB"
    }
}

