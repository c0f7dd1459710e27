import Foundation
import Testing

/// `winnow bench meta` options through the binary: one in-process configuration (`--single`) on a small MLP,
/// and the errors of bad settings.
@Suite struct BenchMetaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func single(_ extra: [String]) throws -> [String: Any]? {
        let result = try WinnowBinary.run(
            [
                "bench", "meta", "--single", "--methods", "sama", "--models", "16", "--unrolls", "2",
                "--steps", "10", "--alpha", "0.1",
            ] + extra, in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data((result.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any]
    }

    @Test func blockElementsReachTheEngine() throws {
        let streamed = try single(["--block-elements", "1"])
        #expect(streamed?["method"] as? String == "sama" && streamed?["unroll"] as? Int == 2 && streamed?["steps"] as? Int == 10)
        #expect(streamed?["metaGradientBlockElements"] as? Int == 1)
        #expect((streamed?["metaStepMilliseconds"] as? Double ?? 0) > 0)
        let byDefault = try single([])
        #expect(byDefault?["metaGradientBlockElements"] as? Int == 1 << 18)
    }

    /// The parent passes the option to its child processes and prints the size they report.
    @Test func theParentHandsBlockElementsToItsChildren() throws {
        let result = try WinnowBinary.run(
            [
                "bench", "meta", "--methods", "sama", "--models", "16", "--unrolls", "2", "--threads", "1",
                "--steps", "10", "--quality-steps", "0", "--block-elements", "7",
            ], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("SAMA's streamed meta gradient: blocks of 7 floats."), "\(result.stdout)")
    }

    /// `--dump-problem` writes what a run starts from, in the sizes the reference script reads.
    @Test func dumpProblemWritesTheRunsStartingPoint() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try WinnowBinary.run(
            [
                "bench", "meta", "--dump-problem", folder.path, "--models", "16", "--quality-steps", "3",
                "--seed", "4",
            ], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Wrote 17 files"), "\(result.stdout)")
        func floats(_ name: String) throws -> [Float] {
            let data = try Data(contentsOf: folder.appendingPathComponent("\(name).f32"))
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        #expect(try floats("trainX").count == 20_000 * 784 && floats("trainY").count == 20_000)
        #expect(try floats("corrupted").filter { $0 == 1 }.count > 7_000)  // 40% of 20,000 flipped
        #expect(try floats("metaX").count == 1_000 * 784 && floats("testY").count == 5_000)
        #expect(try floats("theta.layers.0.weight").count == 16 * 784 && floats("theta.layers.1.bias").count == 10)
        #expect(try floats("lambda.net.layers.0.weight").count == 100)
        let batches = try floats("batches").map(Int.init), metaBatches = try floats("metaBatches").map(Int.init)
        #expect(batches.count == 300 && Set(batches).count == 300 && batches.allSatisfy { (0..<20_000).contains($0) })
        #expect(metaBatches.count == 300 && metaBatches.allSatisfy { (0..<1_000).contains($0) })

        // Deterministic from the seed: a second dump is byte for byte the same; another seed is not.
        let again = folder.appendingPathComponent("again"), other = folder.appendingPathComponent("other")
        _ = try WinnowBinary.run(
            ["bench", "meta", "--dump-problem", again.path, "--models", "16", "--quality-steps", "3", "--seed", "4"], in: Self.root)
        _ = try WinnowBinary.run(
            ["bench", "meta", "--dump-problem", other.path, "--models", "16", "--quality-steps", "3", "--seed", "5"], in: Self.root)
        let first = try Data(contentsOf: folder.appendingPathComponent("batches.f32"))
        #expect(try Data(contentsOf: again.appendingPathComponent("batches.f32")) == first)
        #expect(try Data(contentsOf: other.appendingPathComponent("batches.f32")) != first)

        let file = folder.appendingPathComponent("trainX.f32").path
        let clash = try WinnowBinary.run(["bench", "meta", "--dump-problem", file], in: Self.root)
        #expect(clash.status != 0 && clash.stderr.contains("--dump-problem \(file): exists and is not a folder"), "\(clash.stderr)")
    }

    /// A file that cannot be written stops the dump with its name, and the files written before it are removed.
    @Test func aFailedDumpLeavesNothingHalfWritten() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A non-empty folder where testX.f32 (the sixth file) should go.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("testX.f32/inner"), withIntermediateDirectories: true)
        let result = try WinnowBinary.run(
            ["bench", "meta", "--dump-problem", folder.path, "--models", "16", "--quality-steps", "2"], in: Self.root)
        #expect(result.status != 0 && result.stderr.contains("testX.f32: cannot write"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["testX.f32"])
    }

    @Test func badSettingsFailWithAMessage() throws {
        let cases: [([String], String)] = [
            (["--block-elements", "0"], "--block-elements must be at least 1, got 0"),
            (["--methods", "sama,bogus"], "unknown method 'bogus'"),
            (["--warmup=-1"], "--warmup must be in 0…1000000, got -1"),
            (["--normalization", "max"], "'max' is invalid for '--normalization"),
            (["--alpha", "nan"], "--alpha must be in (0, 10000]"),
            (["--unrolls", "1,0"], "--unrolls must be integers in 1…1000000"),
            (["--config", "{}"], "--config goes with --single"),
            (["--single", "--config", "{\"meta\": 3}"], "--config: not a valid benchmark configuration"),
            (["--models", "512,x"], "--models: '512,x' must be positive hidden widths"),
            (["--models", "512;0"], "--models: '0' must be positive hidden widths"),
            (["--dump-problem", "/tmp/unused", "--single"], "does not combine with --single"),
            (["--dump-problem", "/tmp/unused", "--quality-steps", "0"], "give at least 1"),
        ]
        for (arguments, message) in cases {
            let result = try WinnowBinary.run(["bench", "meta"] + arguments, in: Self.root)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
