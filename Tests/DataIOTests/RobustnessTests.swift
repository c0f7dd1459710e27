import Foundation
import Testing
@testable import DataIO

/// Seeded damage (truncation, byte flips) to real and generated inputs: every parser must either
/// succeed or throw a `DataIOError`; a crash fails the whole run.
@Suite struct RobustnessTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 { MajorityVote.splitMix(&state) }
    }

    func damaged(_ input: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix(state: seed)
        return (0..<count).map { k in
            var b = input
            if k % 2 == 0 {
                b = Array(b.prefix(Int.random(in: 0...b.count, using: &rng)))
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !b.isEmpty {
                    b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            return b
        }
    }

    @Test func damagedJSONAndJSONL() throws {
        let train = try ArchiveSource(path: bundled("rt-sentiment-weak.tar.gz")).read(member: "rt-sentiment/train.json")
        let sample = Array(train.prefix(4_000)) + Array("}".utf8)
        var failures = 0
        for b in damaged(sample, count: 400, seed: 1) {
            do { _ = try WRENCHFormat.parseSplit(b, name: "train", member: "t", file: "t", classCount: 2) } catch is DataIOError {
                failures += 1
            }
        }
        #expect(failures > 150)  // most damage is detected (some flips land inside text and stay valid)
        let digits = try ArchiveSource(path: bundled("uci-digits.tar.gz")).read(member: "uci-digits/digits.jsonl")
        for b in damaged(Array(digits.prefix(3_000)), count: 300, seed: 2) {
            do { _ = try JSONLFormat.read(b, member: "d.jsonl", file: "d.jsonl") } catch is DataIOError {}
        }
    }

    @Test func damagedCSVAndIDX() throws {
        let csv = bytes("id,text,label\n1,\"a, \"\"b\"\"\",0\n2,c,1\n3,\"multi\nline\",0\n")
        for b in damaged(csv, count: 300, seed: 3) {
            do { _ = try CSVFormat.read(b, member: "c.csv", file: "c.csv") } catch is DataIOError {}
        }
        let labels = try ArchiveSource(path: fashionMNISTDir + "/t10k-labels-idx1-ubyte.gz").read(member: "t10k-labels-idx1-ubyte")
        for b in damaged(Array(labels.prefix(200)), count: 300, seed: 4) {
            do { _ = try IDXFormat.parse(b, file: "l") } catch is DataIOError {}
        }
    }

    @Test func damagedArchives() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundled("uci-digits.tar.gz"))))
        var detected = 0
        for (k, b) in damaged(good, count: 12, seed: 5).enumerated() {
            let path = dir + "/d\(k).tar.gz"
            try Data(b).write(to: URL(fileURLWithPath: path))
            do { _ = try Dataset.load(path: path) } catch is DataIOError { detected += 1 }
        }
        #expect(detected >= 10)
    }
}
