import Foundation
import Testing
import WinnowTestSupport

/// `--json` on the bench kinds that print a line of their own: `bench json` and `bench pruning` (whose progress lines
/// then go to standard error, leaving one JSON line on standard output).
@Suite struct BenchJSONOutputTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func lastLine(_ text: String) throws -> [String: Any] {
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
    }

    @Test func jsonParserBenchmark() throws {
        let result = try WinnowBinary.run(["bench", "json", "--runs", "1", "--json"], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try Self.lastLine(result.stdout)
        #expect((json["mbPerSecond"] as? Double ?? 0) > 0 && (json["bytes"] as? Int ?? 0) > 0, "\(result.stdout)")
    }

    @Test func pruningBenchmarkOnFashionMNIST() throws {
        let result = try WinnowBinary.run(
            ["bench", "pruning", "--model", "mlp", "--widths", "16", "--epochs", "2", "--limit", "512", "--threads", "1", "--json"],
            in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 1, "only the JSON line on standard output: \(result.stdout)")
        #expect(result.stderr.contains("epoch  1"), "progress on standard error: \(result.stderr)")
        let json = try Self.lastLine(result.stdout)
        let epochs = json["epochs"] as? [[String: Any]] ?? []
        #expect(json["model"] as? String == "mlp" && json["trainImages"] as? Int == 512)
        #expect(epochs.count == 2 && (epochs.last?["testAccuracy"] as? Double ?? 0) > 0.2, "above chance (0.1): \(result.stdout)")
    }

    @Test func pruningJSONRefusesTheProfileTable() throws {
        let result = try WinnowBinary.run(["bench", "pruning", "--profile", "--json"], in: Self.root)
        #expect(result.status != 0 && result.stderr.contains("--json reports training runs"), "\(result.stderr)")
    }
}
