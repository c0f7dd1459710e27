import Foundation
import Testing
@testable import DataIO

/// `Dataset.warnings`: data that loads but is probably not what was meant.
@Suite struct DatasetWarningsTests {
    @Test func aSplitInTwoFoldersIsReadOnce() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = try writeArchive(
            dir, "two.tar",
            [
                ("a/train.jsonl", "{\"text\": \"x\", \"label\": 0}\n{\"text\": \"y\", \"label\": 1}\n"),
                ("b/train.jsonl", "{\"text\": \"z\", \"label\": 1}\n"),
            ])
        let dataset = try Dataset.load(path: path)
        #expect(dataset.warnings == ["\(path): split 'train' is in 2 members (a/train.jsonl, b/train.jsonl); only a/train.jsonl is read"])
        #expect(try DatasetInspector.inspect(path: path).description.contains("warning: \(path): split 'train' is in 2 members"))
    }

    @Test func labelsThatSkipValuesOrAStrayLabel() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        // 0 and 1 then a 4: classes 2 and 3 have no sample.
        let skipping = try writeArchive(
            dir, "skip.tar", [("train.csv", "label,a\n0,1\n1,2\n4,3\n")])
        let warnings = try Dataset.load(path: skipping).warnings
        #expect(warnings.count == 1 && warnings[0].contains("has no sample of classes 2 ('2'), 3 ('3') of 5"), "\(warnings)")
        // 300 samples of classes 0 and 1 and one of class 2: a stray label.
        let rows = (0..<300).map { "\($0 % 2),\($0)" }.joined(separator: "\n")
        let stray = try writeArchive(dir, "stray.tar", [("train.csv", "label,a\n\(rows)\n2,7\n")])
        let strayWarnings = try Dataset.load(path: stray).warnings
        #expect(strayWarnings.count == 1 && strayWarnings[0].contains("class 2 ('2', 1 sample) hold under 1%"), "\(strayWarnings)")
        // A balanced dataset has none.
        let fine = try writeArchive(dir, "fine.tar", [("train.csv", "label,a\n\(rows)\n")])
        #expect(try Dataset.load(path: fine).warnings.isEmpty)
    }

    @Test func emptyTextsAndAllAbstainSamples() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let text = """
            {"id": "a", "text": "good", "label": 1, "weak_labels": [1, -1]}
            {"id": "b", "text": "  ", "label": 0, "weak_labels": [-1, -1]}
            {"id": "c", "text": "bad", "label": 0, "weak_labels": [0, 0]}

            """
        let path = try writeArchive(dir, "w.tar", [("train.jsonl", text)])
        let warnings = try Dataset.load(path: path).warnings
        #expect(warnings.contains("\(path): split 'train': 1 of 3 texts are empty"), "\(warnings)")
        #expect(warnings.contains("\(path): split 'train': every weak labeling function abstains on 1 of 3 samples"), "\(warnings)")
    }
}
