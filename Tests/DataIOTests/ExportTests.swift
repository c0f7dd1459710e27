import Foundation
import Testing
@testable import DataIO

@Suite struct ExportTests {
    /// Every third train id of the bundled RT set: the export keeps exactly those, valid/test whole.
    @Test func wrenchRoundTrip() throws {
        let ds = try rtSentiment.get()
        let train = try #require(ds[split: "train"])
        let kept = Set(train.ids.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let out = dir + "/rt-pruned.tar.gz"
        let summary = try DatasetExporter.export(ds, keeping: kept.union(["not-an-id"]), to: out)
        #expect(summary.kept == ["train": 3_555] && summary.total == ["train": 10_663] && summary.unknownIDCount == 1)
        let back = try Dataset.load(path: out)
        #expect(back.format == .wrench && back.classNames == ds.classNames)
        let backTrain = try #require(back[split: "train"])
        #expect(Set(backTrain.ids) == kept && backTrain.count == kept.count)
        #expect(backTrain.ids == train.ids.filter(kept.contains))  // order kept
        #expect(backTrain.records == train.records.filter { kept.contains($0.id) })  // content unchanged
        #expect(back[split: "valid"]?.records == ds[split: "valid"]?.records)
        #expect(back[split: "test"]?.count == 1_006)
        #expect(try ArchiveSource(path: out).members().map(\.path).contains("rt-sentiment/README.md"))
    }

    @Test func jsonlRoundTripKeepsLinesVerbatim() throws {
        let ds = try Dataset.load(path: bundled("uci-digits.tar.gz"))
        let kept: Set<String> = ["digits-0", "digits-5", "digits-1796"]
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let out = dir + "/digits.tar.gz"
        try DatasetExporter.export(ds, keeping: kept, to: out)
        let back = try Dataset.load(path: out)
        #expect(back.splits.first?.ids == ["digits-0", "digits-5", "digits-1796"])
        #expect(back.splits.first?.records == ds.splits.first?.records.filter { kept.contains($0.id) })
        let original = try ArchiveSource(path: bundled("uci-digits.tar.gz")).read(member: "uci-digits/digits.jsonl")
        let firstLine = original.prefix { $0 != 0x0a }
        let written = try ArchiveSource(path: out).read(member: "uci-digits/digits.jsonl")
        #expect(Array(written.prefix(firstLine.count)) == Array(firstLine))
    }

    @Test func csvAndTextRoundTripWithPositionalIDs() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let csv = try writeArchive(dir, "c.zip", [("t.csv", "text,label\n\"a, b\",1\nc,0\nd,1\ne,0\n")])
        let ds = try Dataset.load(path: csv)
        let kept: Set<String> = ["t.csv#1", "t.csv#3"]
        try DatasetExporter.export(ds, keeping: kept, to: dir + "/c2.tar.gz")
        let back = try Dataset.load(path: dir + "/c2.tar.gz")
        #expect(back.splits.first?.ids == ["t.csv#1", "t.csv#3"])  // via the t.csv.ids sidecar
        #expect(back.splits.first?.records.map(\.text) == ["c", "e"])
        #expect(try ArchiveSource(path: dir + "/c2.tar.gz").read(member: "t.csv") == bytes("text,label\nc,0\ne,0\n"))
        // Pruning the pruned set again keeps the original ids.
        try DatasetExporter.export(back, keeping: ["t.csv#3"], to: dir + "/c3.tar.gz")
        #expect(try Dataset.load(path: dir + "/c3.tar.gz").splits.first?.ids == ["t.csv#3"])

        let txt = try writeArchive(dir, "t.tar.gz", [("docs.txt", "x\ny\nz\n")])
        try DatasetExporter.export(try Dataset.load(path: txt), keeping: ["docs.txt#2"], to: dir + "/t2.tar.gz")
        let t2 = try Dataset.load(path: dir + "/t2.tar.gz")
        #expect(t2.splits.first?.ids == ["docs.txt#2"] && t2.splits.first?.records.first?.text == "z")
    }

    @Test func idxRoundTripRewritesFiles() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let images = IDXArray(dims: [5, 2, 2], data: Array(0..<20)), labels = IDXArray(dims: [5], data: [0, 1, 2, 3, 4])
        let src = dir + "/src.tar.gz"
        try ArchiveWriter.write(
            to: src,
            entries: [
                (path: "train-images-idx3-ubyte", bytes: IDXFormat.encode(images)),
                (path: "train-labels-idx1-ubyte", bytes: IDXFormat.encode(labels)),
                (path: "t10k-images-idx3-ubyte", bytes: IDXFormat.encode(images)),
                (path: "t10k-labels-idx1-ubyte", bytes: IDXFormat.encode(labels)),
            ])
        let ds = try Dataset.load(path: src)
        let kept: Set<String> = ["train-images-idx3-ubyte#1", "train-images-idx3-ubyte#4"]
        try DatasetExporter.export(ds, keeping: kept, to: dir + "/out.tar.gz")
        let back = try Dataset.load(path: dir + "/out.tar.gz")
        let train = try #require(back[split: "train"])
        #expect(Set(train.ids) == kept && train.count == 2)
        #expect(train.records.map(\.label) == [1, 4])
        #expect(train.records.map(\.features) == [[4, 5, 6, 7], [16, 17, 18, 19]])
        #expect(back[split: "test"]?.count == 5)  // test kept whole
        let raw = try ArchiveSource(path: dir + "/out.tar.gz").read(member: "train-images-idx3-ubyte")
        #expect(try IDXFormat.parse(raw, file: "x").dims == [2, 2, 2])
    }

    /// Prune the real Fashion-MNIST train split to every 60th image; test (t10k) is copied unchanged.
    @Test func fashionMNISTPrunedExport() throws {
        let ds = try fashionMNIST.get()
        let train = try #require(ds[split: "train"])
        let keptIndices = stride(from: 7, to: 60_000, by: 60).map { $0 }
        let kept = Set(keptIndices.map { train.records[$0].id })
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let summary = try DatasetExporter.export(ds, keeping: kept, to: dir + "/fm.tar.gz")
        #expect(summary.kept == ["train": 1_000])
        let back = try Dataset.load(path: dir + "/fm.tar.gz")
        let backTrain = try #require(back[split: "train"])
        #expect(backTrain.ids == keptIndices.map { "train-images-idx3-ubyte#\($0)" })
        #expect(backTrain.records == keptIndices.map { train.records[$0] })
        #expect(back[split: "test"]?.count == 10_000)
        #expect(
            Set(try ArchiveSource(path: dir + "/fm.tar.gz").members().map(\.path)) == [
                "train-images-idx3-ubyte", "train-images-idx3-ubyte.ids", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
            ])
    }

    /// `.tar.bz2` is written as bzip2 and loads back; `.rar` (and a name with no ending) is refused before the
    /// source is read, leaving the folder as it was.
    @Test func exportWritesTheNamedFormatOrRefuses() throws {
        let ds = try Dataset.load(path: bundled("uci-digits.tar.gz"))
        let kept: Set<String> = ["digits-0", "digits-5"]
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        try DatasetExporter.export(ds, keeping: kept, to: dir + "/d.tar.bz2")
        #expect(try Dataset.load(path: dir + "/d.tar.bz2").splits.first?.ids == ["digits-0", "digits-5"])
        let head = try #require(FileHandle(forReadingAtPath: dir + "/d.tar.bz2")).readData(ofLength: 3)
        #expect(Array(head) == Array("BZh".utf8))
        for name in ["d.rar", "z"] {
            let e = expectDataIOError { try DatasetExporter.export(ds, keeping: kept, to: dir + "/" + name) }
            #expect(e == .unsupportedArchiveName(path: dir + "/" + name, supported: ArchiveWriter.Kind.supportedExtensions))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["d.tar.bz2"])
    }

    @Test func exportNeverLeavesAHalfWrittenFile() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let src = try writeArchive(dir, "s.tar.gz", [("d.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\"}\n")])
        let ds = try Dataset.load(path: src)
        // Corrupt the source after loading: the export must fail and leave nothing behind.
        _ = try writeArchive(dir, "s.tar.gz", [("d.jsonl", "{\"id\": \"a\"}\n{\"id\": oops}\n")])
        let out = dir + "/out.tar.gz"
        let e = expectDataIOError { try DatasetExporter.export(ds, keeping: ["a"], to: out) }
        if case .malformedJSON? = e {} else { Issue.record("got \(String(describing: e))") }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["s.tar.gz"])
    }
}

@Suite struct InspectTests {
    @Test func reportOnTheBundledWRENCHSet() throws {
        let report = try DatasetInspector.inspect(path: bundled("rt-sentiment-weak.tar.gz"))
        #expect(report.format == .wrench)
        #expect(report.members.count == 5)
        #expect(report.splits.map(\.count) == [10_663, 1_139, 1_006])
        #expect(report.splits[0].classCounts == [4_563, 6_100])
        #expect(report.weakLabels.map(\.split) == ["train", "valid", "test"])
        #expect(abs(report.weakLabels[1].coverage - 0.8938) < 5e-4)
        #expect(abs(report.weakLabels[2].coverage - 0.8787) < 5e-4)
        let text = report.description
        #expect(text.contains("train: 10663 records"))
        #expect(text.contains("coverage 89.0%"))
        #expect(text.contains("0=rotten, 1=fresh"))
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(DatasetReport.self, from: json) == report)
    }

    @Test func reportOnDigits() throws {
        let report = try DatasetInspector.inspect(path: bundled("uci-digits.tar.gz"))
        #expect(report.format == .jsonl && report.weakLabels.isEmpty)
        #expect(report.splits.first?.featureLength == 64)
        #expect(report.splits.first?.featureRange == [0, 16])
        #expect(report.description.contains("64 features in [0, 16]"))
    }

    @Test func unknownFormatIsAnError() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = try writeArchive(dir, "u.tar.gz", [("a.bin", "xyz")])
        let e = expectDataIOError { _ = try DatasetInspector.inspect(path: path) }
        if case .unknownFormat? = e {} else { Issue.record("got \(String(describing: e))") }
    }
}
