import Foundation
import Testing
@testable import DataIO

/// Expected numbers come from `docs/dataio-reference-stats.py` (plain Python `json` over the bundled archive).
@Suite struct WRENCHTests {
    @Test func bundledSplitCountsAndClasses() throws {
        let ds = try rtSentiment.get()
        #expect(ds.format == .wrench)
        #expect(ds.classNames == ["rotten", "fresh"])
        #expect(ds.splitNames == ["train", "valid", "test"])
        #expect(ds[split: "train"]?.count == 10_663)
        #expect(ds[split: "valid"]?.count == 1_139)
        #expect(ds[split: "test"]?.count == 1_006)
        let train = try #require(ds[split: "train"])
        #expect(train.member == "rt-sentiment/train.json")
        #expect(train.classCounts(classCount: 2) == [4_563, 6_100])
        let first = try #require(train.records.first)
        #expect(first.id == "rt-0")
        #expect(first.text == "A three-hour cinema master class.")
        #expect(first.label == 1)
        #expect(first.weakLabels == [-1, 1, -1, -1, -1, -1, -1, -1])
        #expect(Set(train.ids).count == 10_663)
    }

    @Test func majorityVoteCoverageAndAccuracyOnTrain() throws {
        let ds = try rtSentiment.get()
        let train = try #require(ds[split: "train"])
        let result = MajorityVote(classCount: 2).apply(to: train)
        let r = result.report
        #expect(r.labelingFunctionCount == 8)
        #expect(abs(r.coverage - 0.8896) < 5e-4)  // ≥ 1 non-abstain vote
        #expect(abs(r.decisiveCoverage - 0.8157) < 5e-4)  // unique majority: the README's "82%"
        #expect(r.tieCount == 788)
        #expect(r.allAbstainCount == 10_663 - 9_486)
        #expect(abs(try #require(r.accuracy) - 0.6989) < 5e-4)  // the README's "70%"
        #expect(abs(try #require(r.expectedAccuracyOnCovered) - 0.6824) < 5e-4)
        #expect(abs(r.labelingFunctions[0].coverage - 0.7229) < 5e-4)
        #expect(abs((r.labelingFunctions[0].accuracy ?? 0) - 0.6871) < 5e-4)
        #expect(abs(r.labelingFunctions[7].coverage - 0.0039) < 5e-4)
        #expect(abs((r.labelingFunctions[2].accuracy ?? 0) - 0.8861) < 5e-4)
        // Every sample gets a soft label under the default policy; rt-0 votes fresh.
        #expect(result.votes.allSatisfy { $0 != nil })
        #expect(result.votes[0] == MajorityVote.Vote(soft: [0, 1], label: 1))
        #expect(ds.majorityVote(split: "train")?.report == r)
        // Dropping ties and all-abstain keeps exactly the unique-majority samples: 9,486 covered − 788 ties.
        let dropped = try #require(ds.majorityVote(split: "train", policy: .abstain))
        #expect(dropped.votes.compactMap { $0 }.count == 8_698)
        let soft = result.votes.compactMap { $0 }.filter { $0.soft == [0.5, 0.5] }.count
        #expect(soft == 788 + 1_177)  // ties and all-abstain both get the uniform soft label
    }

    @Test func tiePolicies() {
        let uniform = MajorityVote(classCount: 3)
        #expect(uniform.vote([0, 1, -1]) == .init(soft: [0.5, 0.5, 0], label: 0))
        let third: Float = 1 / 3
        #expect(uniform.vote([-1, -1]) == MajorityVote.Vote(soft: [third, third, third], label: 0))
        #expect(uniform.vote([2, 2, 0]) == .init(soft: [0, 0, 1], label: 2))
        let drop = MajorityVote(classCount: 3, policy: .abstain)
        #expect(drop.vote([0, 1]) == nil)
        #expect(drop.vote([-1]) == nil)
        #expect(drop.vote([1, 1, 0]) == .init(soft: [0, 1, 0], label: 1))
        let random = MajorityVote(classCount: 3, policy: .random(seed: 42))
        var picked = Set<Int>()
        for i in 0..<200 {
            let v = random.vote([0, 1, -1], index: i)
            #expect(v == random.vote([0, 1, -1], index: i))  // deterministic
            picked.insert(v?.label ?? -1)
            #expect(v?.soft.reduce(0, +) == 1)
        }
        #expect(picked == [0, 1])  // only tied classes, both reachable
    }

    @Test func labelNotInLabelJSONNamesFileAndID() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = try writeArchive(
            dir, "w.tar.gz",
            [
                ("w/label.json", #"{"0": "neg", "1": "pos"}"#),
                (
                    "w/train.json",
                    #"{"a": {"label": 0, "weak_labels": [0, -1], "data": {"text": "x"}}, "#
                        + #""bad-7": {"label": 2, "weak_labels": [1, 1], "data": {"text": "y"}}}"#
                ),
            ])
        let e = expectDataIOError { _ = try Dataset.load(path: path) }
        #expect(e == .unknownLabel(file: path + ":w/train.json", id: "bad-7", label: 2, classCount: 2))
        #expect(e?.errorDescription?.contains("bad-7") == true)
        let weak = try writeArchive(
            dir, "w2.tar.gz",
            [
                ("label.json", #"{"0": "neg", "1": "pos"}"#),
                ("train.json", #"{"a": {"label": 0, "weak_labels": [0, 5], "data": {"text": "x"}}}"#),
            ])
        #expect(
            expectDataIOError { _ = try Dataset.load(path: weak) }
                == .unknownLabel(file: weak + ":train.json", id: "a", label: 5, classCount: 2))
    }

    @Test func emptySplitAndMissingLabelFile() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let empty = try writeArchive(dir, "e.zip", [("label.json", #"{"0": "a"}"#), ("train.json", "{}")])
        #expect(expectDataIOError { _ = try Dataset.load(path: empty) } == .emptySplit(file: empty + ":train.json", split: "train"))
        let noLabels = try writeArchive(dir, "n.tar.gz", [("d/train.json", #"{"a": {"label": 0, "data": {"text": "x"}}}"#)])
        #expect(
            expectDataIOError { _ = try Dataset.load(path: noLabels) } == .noMatchingMembers(archive: noLabels, pattern: "**/label.json"))
    }

    @Test func malformedSplitReportsMemberAndLine() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = try writeArchive(
            dir, "m.tar.xz",
            [
                ("label.json", #"{"0": "a", "1": "b"}"#),
                ("valid.json", "{\"a\": {\"label\": 0,\n \"data\": {\"text\": \"x\"}},\n \"b\": {\"label\" 1}}"),
            ])
        let e = expectDataIOError { _ = try Dataset.load(path: path) }
        guard case let .malformedJSON(file, line, _, _, _)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(file == path + ":valid.json")
        #expect(line == 3)
    }

    @Test func zipAndDirectoryLayoutsLoadTheSame() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let files = [
            ("x/label.json", #"{"0": "no", "1": "yes"}"#),
            ("x/train.json", #"{"t1": {"label": 1, "weak_labels": [1, -1, 0], "data": {"text": "caf\u00e9", "src": 3}}}"#),
            ("x/test.json", #"{"s1": {"label": 0, "weak_labels": [-1, -1, -1], "data": {"text": "q"}}}"#),
        ]
        let zip = try ArchiveSource(path: try writeArchive(dir, "w.zip", files))
        let ds = try Dataset.load(path: zip.path)
        #expect(ds.splitNames == ["train", "test"])
        let rec = try #require(ds[split: "train"]?.records.first)
        #expect(rec == DataRecord(id: "t1", text: "café", label: 1, weakLabels: [1, -1, 0], extra: ["src": .number(3)]))
        for (p, text) in files {
            try FileManager.default.createDirectory(atPath: dir + "/tree/x", withIntermediateDirectories: true)
            try text.write(toFile: dir + "/tree/" + p, atomically: true, encoding: .utf8)
        }
        let tree = try Dataset.load(path: dir + "/tree")
        #expect(tree[split: "train"]?.records == ds[split: "train"]?.records)
        #expect(tree[split: "test"]?.records == ds[split: "test"]?.records)
    }
}
