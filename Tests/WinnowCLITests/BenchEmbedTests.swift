import Foundation
import Testing
import WinnowTestSupport

/// `winnow bench embed` through the binary: a few texts embedded with all-MiniLM-L6-v2 (which must be
/// installed: scripts/setup.sh runs scripts/install-minilm.sh), and bad settings.
@Suite(.tags(.miniLM), .needsMiniLM) struct BenchEmbedTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func embedsAFewTextsAndReportsThroughput() throws {
        let result = try WinnowBinary.run(["bench", "embed", "--limit", "12", "--batch-size", "4", "--json"], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data((result.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any]
        #expect(json?["benchmark"] as? String == "embed")
        let figures = json?["figures"] as? [[String: Any]] ?? []
        let textsPerSecond = figures.first { $0["name"] as? String == "embed" && $0["unit"] as? String == "texts/s" }?["value"] as? Double
        #expect((textsPerSecond ?? 0) > 0, "\(result.stdout)")
    }

    @Test func badSettingsFailWithAMessage() throws {
        let cases: [([String], String)] = [
            (["--batch-size", "0"], "--batch-size ≥ 1"),
            (["--split", "nope"], "no split 'nope' (set by --split); the dataset has train, valid, test"),
            (["--path", "missing.tar.gz"], "missing.tar.gz"),
        ]
        for (arguments, message) in cases {
            let result = try WinnowBinary.run(["bench", "embed"] + arguments, in: Self.root)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let missing = "/nonexistent/winnow-minilm-\(UUID())"
        let process = Process()
        process.executableURL = try WinnowBinary.locate()
        process.arguments = ["bench", "embed", "--limit", "1"]
        process.currentDirectoryURL = Self.root
        process.environment = ProcessInfo.processInfo.environment.merging(["WINNOW_MINILM_DIR": missing]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0 && message.contains("bash scripts/install-minilm.sh"), "\(message)")
    }
}
