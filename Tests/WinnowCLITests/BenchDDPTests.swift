import Foundation
import Testing

/// `winnow bench ddp` options, through the binary: one in-process configuration of the transformer (`--single`,
/// no mpirun) and the errors of bad settings.
@Suite struct BenchDDPTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let small = [
        "--layers", "1", "--width", "16", "--heads", "2", "--intermediate", "32", "--max-length", "16",
        "--vocabulary", "500", "--steps", "2", "--batch-size", "8", "--meta-batch-size", "8",
    ]

    @Test func singleTextTransformerPrintsOneResult() throws {
        let result = try WinnowBinary.run(
            [
                "bench", "ddp", "--single", "--model", "text-transformer", "--methods", "sama",
                "--unrolls", "2",
            ] + Self.small, in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data((result.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any]
        #expect(json?["model"] as? String == "text-transformer")
        #expect(json?["architecture"] as? String == "transformer L1-H16-h2-I32-T16-V500 +MWN+MLC")
        #expect(json?["ranks"] as? Int == 1 && json?["metaBatchSize"] as? Int == 8 && json?["unroll"] as? Int == 2)
        #expect((json?["samplesPerSecond"] as? Double ?? 0) > 0 && (json?["lambda"] as? [Double])?.isEmpty == false)
    }

    @Test func badSettingsFailWithAMessage() throws {
        let cases: [([String], String)] = [
            (["--model", "cnn"], "'mlp' and 'text-transformer'"),
            (["--model", "text-transformer", "--heads", "3"], "--heads 3 must divide --width 256"),
            (["--model", "text-transformer", "--archive", "missing.tar.gz"], "--archive missing.tar.gz: no such file"),
            (["--model", "text-transformer", "--batch-size", "33"], "must be a multiple of --ranks 2"),
            (["--hidden", "256,x"], "--hidden must be positive integers"),
            (["--ranks", "2,0"], "--ranks"),
            (["--ranks", "3"], "--batch-size 256 must be a multiple of --ranks 3"),
            (["--figures", "/nonexistent-folder"], "--figures /nonexistent-folder: no such folder"),
        ]
        for (arguments, message) in cases {
            let result = try WinnowBinary.run(["bench", "ddp"] + arguments, in: Self.root)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
