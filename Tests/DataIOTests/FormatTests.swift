import Foundation
import Testing
@testable import DataIO

/// Expected numbers for bundled data come from `docs/dataio-reference-stats.py`.
@Suite struct JSONLTests {
    @Test func bundledDigits() throws {
        let ds = try Dataset.load(path: bundled("uci-digits.tar.gz"))
        #expect(ds.format == .jsonl)
        #expect(ds.classNames == (0...9).map(String.init))
        let split = try #require(ds.splits.first)
        #expect(ds.splits.count == 1 && split.name == "digits" && split.member == "uci-digits/digits.jsonl")
        #expect(split.count == 1_797)
        #expect(split.records.allSatisfy { $0.features?.count == 64 })
        let all = split.records.flatMap { $0.features ?? [] }
        #expect(all.min() == 0 && all.max() == 16)
        #expect(split.classCounts(classCount: 10)[0] == 178)
        #expect(split.records[0].id == "digits-0" && split.records[0].label == 0)
        #expect(Array(split.records[0].features?.prefix(4) ?? []) == [0, 0, 5, 13])
    }

    @Test func bundledMovieCorpusIsUnlabeledText() throws {
        let ds = try Dataset.load(path: bundled("rt-movie-corpus.tar.gz"))
        let split = try #require(ds.splits.first)
        #expect(split.count == 1_097)
        #expect(ds.classNames.isEmpty)
        #expect(split.records.allSatisfy { $0.text != nil && $0.label == nil })
        #expect(split.records[0].id == "rtplot-0")
        #expect(split.records[0].text?.hasPrefix("Vijay Singh Rajput (Amitabh Bachchan)") == true)
    }

    @Test func configurableFieldsStringLabelsAndPositionalIDs() throws {
        let text = """
            {"body": "good", "y": "pos", "vec": [1, 2.5], "meta": {"k": 1}}

            {"body": "bad", "y": "neg", "vec": [0, -1e2]}\r
            {"body": "meh", "y": "pos", "vec": [3, 4]}
            """
        let opts = JSONLOptions(idField: "uid", textField: "body", labelField: "y", featuresField: "vec")
        let (split, names) = try JSONLFormat.read(bytes(text), member: "d/train.jsonl", file: "f", options: opts)
        #expect(names == ["neg", "pos"])
        #expect(split.name == "train" && !split.hasIntrinsicIDs)
        #expect(split.ids == ["d/train.jsonl#0", "d/train.jsonl#1", "d/train.jsonl#2"])
        #expect(split.records[1] == DataRecord(id: "d/train.jsonl#1", text: "bad", features: [0, -100], label: 0))
        #expect(split.records[0].extra == ["meta": .object(JSONObject(keys: ["k"], values: [.number(1)]))])
    }

    @Test func malformedLineThreeIsReportedAsLineThree() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = try writeArchive(
            dir, "j.tar.gz",
            [
                (
                    "data/train.jsonl",
                    """
                    {"id": "a", "label": 0, "text": "one"}
                    {"id": "b", "label": 1, "text": "two"}
                    {"id": "c", "label": 1, "text": "three"
                    {"id": "d", "label": 0, "text": "four"}
                    """
                )
            ])
        let e = expectDataIOError { _ = try Dataset.load(path: path) }
        guard case let .malformedJSON(file, line, _, offset, _)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(file == path + ":data/train.jsonl")
        #expect(line == 3)
        #expect(offset == 117)  // end of line 3: the object is never closed
        #expect(e?.errorDescription?.contains("line 3") == true)
    }

    @Test func wrongPixelCountIsReported() throws {
        let text = "{\"id\": \"p0\", \"pixels\": [1, 2, 3]}\n{\"id\": \"p1\", \"pixels\": [1, 2]}\n"
        let e = expectDataIOError { _ = try JSONLFormat.read(bytes(text), member: "px.jsonl", file: "px.jsonl") }
        #expect(e == .featureLengthMismatch(file: "px.jsonl:2", id: "p1", expected: 3, actual: 2))
    }

    @Test func nonFiniteFeaturesNameTheRow() {
        // 1e39 overflows Float32; the JSON parser reads 1e999 as infinity.
        for value in ["1e39", "-1e999"] {
            let text = "{\"id\": \"a\", \"pixels\": [1, 2]}\n{\"id\": \"b\", \"pixels\": [3, \(value)]}\n"
            let e = expectDataIOError { _ = try JSONLFormat.read(bytes(text), member: "f.jsonl", file: "f.jsonl") }
            #expect(e?.errorDescription?.hasPrefix("f.jsonl:2 (id 'b')") == true, "\(String(describing: e))")
            #expect(e?.errorDescription?.contains("not a finite") == true, "\(String(describing: e))")
        }
    }

    @Test func emptyJSONLSplitIsAnError() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = try writeArchive(dir, "e.tar", [("train.jsonl", "\n  \n"), ("valid.jsonl", "{\"text\": \"x\"}\n")])
        #expect(expectDataIOError { _ = try Dataset.load(path: path) } == .emptySplit(file: path + ":train.jsonl", split: "train"))
    }

    @Test func duplicateIDsAreRejected() {
        let text = "{\"id\": \"a\"}\n{\"id\": \"a\"}\n"
        #expect(
            expectDataIOError { _ = try JSONLFormat.read(bytes(text), member: "d.jsonl", file: "d.jsonl") }
                == .duplicateID(file: "d.jsonl", id: "a"))
    }
}

@Suite struct CSVTests {
    @Test func quotedFieldsCRLFAndColumns() throws {
        let text = "id,text,label,extra\r\n1,\"hello, world\",pos,x\r\n2,\"say \"\"hi\"\"\nnext line\",neg,y\r\n\r\n3,plain,pos,z"
        let (split, names) = try CSVFormat.read(bytes(text), member: "r.csv", file: "r.csv")
        #expect(names == ["neg", "pos"])
        #expect(split.ids == ["1", "2", "3"])
        #expect(split.records[0] == DataRecord(id: "1", text: "hello, world", label: 1, extra: ["extra": .string("x")]))
        #expect(split.records[1].text == "say \"hi\"\nnext line")
        #expect(split.records[2].label == 1)
    }

    @Test func numericFeatureColumns() throws {
        let text = "label,a,b,c\n0,1,2,3\n1, 4.5 ,5,6\n"
        let (split, names) = try CSVFormat.read(bytes(text), member: "n.csv", file: "n.csv")
        #expect(names == ["0", "1"])
        #expect(split.records.map(\.features) == [[1, 2, 3], [4.5, 5, 6]])
        #expect(split.ids == ["n.csv#0", "n.csv#1"])
        let picked = try CSVFormat.read(
            bytes(text), member: "n.csv", file: "n.csv",
            options: CSVOptions(featureColumns: ["c", "a"])
        ).split
        #expect(picked.records.map(\.features) == [[3, 1], [6, 4.5]])
    }

    @Test func malformedCSVNamesTheLine() {
        func fail(_ t: String) -> DataIOError? { expectDataIOError { _ = try CSVFormat.read(bytes(t), member: "b.csv", file: "b.csv") } }
        #expect(fail("id,text\n1,ok\n2,\"open\n3,x\n") == .malformedCSV(file: "b.csv", line: 3, reason: "unterminated quoted field"))
        #expect(fail("id,text\n1,ok\n2,too,many\n") == .malformedCSV(file: "b.csv", line: 3, reason: "expected 2 fields, found 3"))
        #expect(fail("label,a\n0,1\n1,abc\n") == .malformedCSV(file: "b.csv", line: 3, reason: "column 'a': 'abc' is not a number"))
        for value in ["nan", "inf", "-inf", "1e39"] {
            #expect(
                fail("label,a\n0,1\n1,\(value)\n")
                    == .malformedCSV(file: "b.csv", line: 3, reason: "column 'a': '\(value)' is not a finite number"))
        }
    }
}

@Suite struct IDXTests {
    /// Fashion-MNIST from the Debian package: 60,000 / 10,000 images of 28×28, 10 balanced classes.
    @Test func fashionMNISTFromTheSystemPackage() throws {
        let ds = try fashionMNIST.get()
        #expect(ds.format == .idx)
        #expect(ds.splitNames == ["train", "test"])
        #expect(ds.classNames.count == 10)
        let train = try #require(ds[split: "train"]), test = try #require(ds[split: "test"])
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.member == "train-images-idx3-ubyte.gz" && train.labelsMember == "train-labels-idx1-ubyte.gz")
        #expect(train.records.allSatisfy { $0.features?.count == 784 })
        #expect(train.classCounts(classCount: 10) == [Int](repeating: 6_000, count: 10))
        #expect(test.classCounts(classCount: 10) == [Int](repeating: 1_000, count: 10))
        #expect(train.records[0].id == "train-images-idx3-ubyte#0")
        #expect(train.records[0].label == 9)  // first Fashion-MNIST training item is an ankle boot
        #expect(train.records[0].features?.max() == 255)
    }

    @Test func explicitImagesAndLabelsPair() throws {
        let split = try IDXFormat.load(
            images: fashionMNISTDir + "/t10k-images-idx3-ubyte.gz",
            labels: fashionMNISTDir + "/t10k-labels-idx1-ubyte.gz", name: "test")
        #expect(split.count == 10_000 && split.records[0].features?.count == 784)
        #expect(split.records[0].id == "t10k-images-idx3-ubyte#0" && split.records[0].label == 9)
        let mismatch = expectDataIOError {
            _ = try IDXFormat.load(
                images: fashionMNISTDir + "/t10k-images-idx3-ubyte.gz",
                labels: fashionMNISTDir + "/train-labels-idx1-ubyte.gz")
        }
        #expect(
            mismatch
                == .idxCountMismatch(
                    images: "t10k-images-idx3-ubyte", labels: "train-labels-idx1-ubyte",
                    imageCount: 10_000, labelCount: 60_000))
    }

    @Test func encodeParseRoundTripGzipOrNot() throws {
        let images = IDXArray(dims: [3, 2, 2], data: Array(0..<12))
        let labels = IDXArray(dims: [3], data: [2, 0, 1])
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = dir + "/m.tar.gz"
        try ArchiveWriter.write(
            to: path,
            entries: [
                (path: "m/train-images-idx3-ubyte", bytes: IDXFormat.encode(images)),
                (path: "m/train-labels-idx1-ubyte", bytes: IDXFormat.encode(labels)),
            ])
        let ds = try Dataset.load(path: path)
        let split = try #require(ds[split: "train"])
        #expect(split.records.map(\.label) == [2, 0, 1])
        #expect(split.records[1].features == [4, 5, 6, 7])
        #expect(ds.classNames == ["0", "1", "2"])
        // A gzip member inside the archive is decompressed transparently.
        let gzPath = dir + "/one.gz"
        let gzSource = try Data(contentsOf: URL(fileURLWithPath: fashionMNISTDir + "/t10k-labels-idx1-ubyte.gz"))
        try gzSource.write(to: URL(fileURLWithPath: gzPath))
        let parsed = try IDXFormat.parse([UInt8](gzSource), file: gzPath)
        #expect(parsed.dims == [10_000])
    }

    @Test func truncatedOrMismatchedIDXIsReported() throws {
        var bytesOut = IDXFormat.encode(IDXArray(dims: [4, 3], data: Array(repeating: 7, count: 12)))
        bytesOut.removeLast(5)
        let e = expectDataIOError { _ = try IDXFormat.parse(bytesOut, file: "x-images-idx3-ubyte") }
        #expect(
            e
                == .malformedIDX(
                    file: "x-images-idx3-ubyte", byteOffset: 19, reason: "dimensions [4, 3] need 12 data bytes, found 7 (truncated)"))
        #expect(
            expectDataIOError { _ = try IDXFormat.parse([0, 0, 0x0D, 1, 0, 0, 0, 0], file: "f") }
                == .malformedIDX(file: "f", byteOffset: 2, reason: "unsupported element type 0xd (only unsigned byte 0x08)"))
        #expect(expectDataIOError { _ = try IDXFormat.parse([1, 2, 3], file: "f") } != nil)
        // Found by fuzzing (scripts/fuzz.sh): huge dimensions with a zero among them passed the size check (0 bytes)
        // and then overflowed the item size: now an error.
        let fuzzed: [UInt8] = [0, 0, 8, 5, 0xC1, 0xFF, 0xFE, 0xFF, 0xF7, 0xFB, 0xFC, 3, 0, 0, 0, 0, 1, 2, 0, 0, 0, 5, 6, 7]
        let huge = expectDataIOError { _ = try IDXFormat.parse(fuzzed, file: "f") }
        #expect(huge?.errorDescription?.contains("are too large") == true, "\(String(describing: huge))")
        #expect(try IDXFormat.parse([0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 5], file: "f").dims == [0, 5], "an empty array is fine")
        let images = IDXArray(dims: [3, 2], data: Array(0..<6)), labels = IDXArray(dims: [2], data: [0, 1])
        let m = expectDataIOError {
            _ = try IDXFormat.split(name: "train", images: images, imagesMember: "i", labels: labels, labelsMember: "l")
        }
        #expect(m == .idxCountMismatch(images: "i", labels: "l", imageCount: 3, labelCount: 2))
    }
}

@Suite struct TextCorpusTests {
    @Test func oneDocumentPerLine() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let path = try writeArchive(dir, "c.tar.zst", [("corpus/a.txt", "first doc\r\n\nsecond doc\nthird\n")])
        let ds = try Dataset.load(path: path)
        #expect(ds.format == .text)
        let split = try #require(ds.splits.first)
        #expect(split.records.map(\.text) == ["first doc", "second doc", "third"])
        #expect(split.ids == ["corpus/a.txt#0", "corpus/a.txt#1", "corpus/a.txt#2"])
    }
}
