import Foundation
import Testing

/// `winnow bench meta` options through the binary: one in-process configuration (`--single`) on a small MLP,
/// and the errors of bad settings.
@Suite struct BenchMetaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func single(_ extra: [String]) throws -> [String: Any]? {
        let result = try WinnowBinary.run(["bench", "meta", "--single", "--methods", "sama", "--models", "16", "--unrolls", "2",
                                           "--steps", "10", "--alpha", "0.1"] + extra, in: Self.root)
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
        let result = try WinnowBinary.run(["bench", "meta", "--methods", "sama", "--models", "16", "--unrolls", "2", "--threads", "1",
                                           "--steps", "10", "--quality-steps", "0", "--block-elements", "7"], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("SAMA's streamed meta gradient: blocks of 7 floats."), "\(result.stdout)")
    }

    @Test func badSettingsFailWithAMessage() throws {
        let cases: [([String], String)] = [
            (["--block-elements", "0"], "--block-elements must be at least 1, got 0"),
            (["--methods", "sama,bogus"], "unknown method 'bogus'"),
            (["--warmup=-1"], "--warmup must be at least 0, got -1"),
            (["--normalization", "max"], "--normalization must be mean or weight-sum"),
        ]
        for (arguments, message) in cases {
            let result = try WinnowBinary.run(["bench", "meta"] + arguments, in: Self.root)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
