import Foundation
import Testing
@testable import DataIO

@Suite struct GlobTests {
    @Test func starStaysWithinOneSegment() {
        #expect(Glob("*.json").matches("train.json"))
        #expect(!Glob("*.json").matches("rt/train.json"))
        #expect(Glob("rt/*.json").matches("rt/train.json"))
        #expect(!Glob("rt/*.json").matches("rt/a/train.json"))
    }

    @Test func doubleStarCrossesSegmentsAndMatchesZeroDirectories() {
        #expect(Glob("**/train.json").matches("train.json"))
        #expect(Glob("**/train.json").matches("rt-sentiment/train.json"))
        #expect(Glob("**/train.json").matches("a/b/c/train.json"))
        #expect(!Glob("**/train.json").matches("a/b/c/xtrain.json.bak"))
        #expect(Glob("**").matches("a/b"))
        #expect(Glob("a/**/z").matches("a/z"))
        #expect(Glob("a/**/z").matches("a/b/c/z"))
    }

    @Test func questionMarkAndLiterals() {
        #expect(Glob("t?st.json").matches("test.json"))
        #expect(!Glob("t?st.json").matches("t/st.json"))
        #expect(Glob("./rt/label.json").matches("rt/label.json"))
        #expect(Glob("rt/label.json").isLiteral)
        #expect(!Glob("rt/label.jsonx").matches("rt/label.json"))
    }
}

@Suite struct ArchiveSourceTests {
    @Test func listsBundledTarGzMembersWithSizes() throws {
        let members = try ArchiveSource(path: bundled("rt-sentiment-weak.tar.gz")).members()
        #expect(
            members.map(\.path) == [
                "rt-sentiment/train.json", "rt-sentiment/valid.json", "rt-sentiment/test.json",
                "rt-sentiment/label.json", "rt-sentiment/README.md",
            ])
        #expect(members.first?.size == 2_201_989)
    }

    @Test func readsMemberByPathAndByGlob() throws {
        let src = try ArchiveSource(path: bundled("rt-sentiment-weak.tar.gz"))
        #expect(String(decoding: try src.read(member: "./rt-sentiment/label.json"), as: UTF8.self) == #"{"0": "rotten", "1": "fresh"}"#)
        var seen: [String: Int] = [:]
        try src.forEachMember(matching: "**/t*.json") { seen[$0] = $1.count }
        #expect(seen == ["rt-sentiment/train.json": 2_201_989, "rt-sentiment/test.json": 204_792])
        #expect(try src.members(matching: "rt-sentiment/*.md") == [ArchiveMember(path: "rt-sentiment/README.md", size: 307)])
    }

    @Test(arguments: ["a.tar", "a.tar.gz", "a.tgz", "a.tar.bz2", "a.tbz2", "a.tar.xz", "a.tar.zst", "a.zip", "A.TAR.BZ2"])
    func roundTripsEveryArchiveKind(name: String) throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let big = String(repeating: "0123456789", count: 20_000)
        let path = try writeArchive(dir, name, [("d/x.txt", "hello\n"), ("d/e/big.txt", big), ("y.csv", "id\n1\n")])
        let src = try ArchiveSource(path: path)
        #expect(src.kind == .file)
        #expect(Set(try src.members().map(\.path)) == ["d/x.txt", "d/e/big.txt", "y.csv"])
        #expect(try src.read(member: "d/e/big.txt") == bytes(big))
        #expect(try src.readMembers(matching: "d/**").map(\.path).sorted() == ["d/e/big.txt", "d/x.txt"])
    }

    /// The written bytes are the format the name says (magic numbers), never gzip under another name.
    @Test func writesTheFormatTheNameSays() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let magic: [String: [UInt8]] = [
            "a.tar.gz": [0x1f, 0x8b], "a.tar.bz2": Array("BZh".utf8),
            "a.tar.xz": [0xfd, 0x37, 0x7a, 0x58, 0x5a], "a.tar.zst": [0x28, 0xb5, 0x2f, 0xfd],
            "a.zip": Array("PK".utf8),
        ]
        for (name, prefix) in magic {
            let path = try writeArchive(dir, name, [("x.txt", "x\n")])
            let head = try #require(FileHandle(forReadingAtPath: path)).readData(ofLength: prefix.count)
            #expect(Array(head) == prefix, "\(name)")
        }
    }

    /// Names without a writable format (`.rar`, `.7z`, none, a one-character name) are refused naming the
    /// supported endings, and nothing is written.
    @Test func unsupportedArchiveNamesAreRefused() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        for name in ["x.rar", "x.7z", "z", "x.gz", "x.tar.lz4"] {
            #expect(ArchiveWriter.Kind.from(path: name) == nil, "\(name)")
            let e = expectDataIOError { _ = try writeArchive(dir, name, [("x.txt", "x\n")]) }
            #expect(e == .unsupportedArchiveName(path: dir + "/" + name, supported: ArchiveWriter.Kind.supportedExtensions))
            #expect(e?.errorDescription?.contains(".tar.bz2") == true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// Foundation's NSString path methods trap on one-character paths; the writer splits paths itself.
    @Test func splitsOneCharacterPaths() {
        #expect(ArchiveWriter.folderAndName(of: "z") == (".", "z"))
        #expect(ArchiveWriter.folderAndName(of: "/z") == ("/", "z"))
        #expect(ArchiveWriter.folderAndName(of: "a/z") == ("a", "z"))
        #expect(ArchiveWriter.folderAndName(of: "./a/b.tar") == ("./a", "b.tar"))
    }

    @Test func stripsLeadingDotSlashFromSystemTar() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        try FileManager.default.createDirectory(atPath: dir + "/in/sub", withIntermediateDirectories: true)
        try "abc".write(toFile: dir + "/in/sub/f.txt", atomically: true, encoding: .utf8)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-czf", dir + "/t.tar.gz", "-C", dir + "/in", "."]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let src = try ArchiveSource(path: dir + "/t.tar.gz")
        #expect(try src.members().map(\.path) == ["sub/f.txt"])  // directories are not members
        #expect(try src.read(member: "sub/f.txt") == bytes("abc"))
    }

    @Test func readsPlainAndGzipFilesAsOneRawMember() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        try "line1\nline2\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let plain = try ArchiveSource(path: dir + "/notes.txt")
        #expect(try plain.members().map(\.path) == ["notes.txt"])
        #expect(try plain.read(member: "notes.txt") == bytes("line1\nline2\n"))
        // A real IDX .gz: libarchive's raw format gunzips it; header magic 0x00000801, 10,000 labels.
        let gz = try ArchiveSource(path: fashionMNISTDir + "/t10k-labels-idx1-ubyte.gz")
        let members = try gz.members()
        #expect(members.map(\.path) == ["t10k-labels-idx1-ubyte"])
        let data = try gz.read(member: "t10k-labels-idx1-ubyte")
        #expect(data.count == 8 + 10_000)
        #expect(Array(data[0..<8]) == [0, 0, 8, 1, 0, 0, 0x27, 0x10])
    }

    @Test func readsDirectoriesRecursively() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        try FileManager.default.createDirectory(atPath: dir + "/a/b", withIntermediateDirectories: true)
        try "1".write(toFile: dir + "/a/b/one.json", atomically: true, encoding: .utf8)
        try "22".write(toFile: dir + "/two.json", atomically: true, encoding: .utf8)
        let src = try ArchiveSource(path: dir)
        #expect(src.kind == .directory)
        #expect(try src.members() == [ArchiveMember(path: "a/b/one.json", size: 1), ArchiveMember(path: "two.json", size: 2)])
        #expect(try src.readMembers(matching: "**/*.json").map(\.path) == ["a/b/one.json", "two.json"])
        let e = expectDataIOError { _ = try src.read(member: "../etc/passwd") }
        #expect(e == .memberNotFound(archive: dir, member: "../etc/passwd"))
    }
}

@Suite struct BadArchiveTests {
    @Test func missingFileIsReported() {
        let e = expectDataIOError { _ = try ArchiveSource(path: "/nonexistent/data.tar.gz") }
        #expect(e == .fileNotFound(path: "/nonexistent/data.tar.gz"))
    }

    @Test func missingMemberIsReported() throws {
        let src = try ArchiveSource(path: bundled("uci-digits.tar.gz"))
        let e = expectDataIOError { _ = try src.read(member: "uci-digits/nope.jsonl") }
        #expect(e?.errorDescription?.contains("nope.jsonl") == true)
    }

    @Test func truncatedTarGzIsAnErrorNotACrash() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let full = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundled("rt-sentiment-weak.tar.gz"))))
        let path = dir + "/half.tar.gz"
        try Data(full[0..<(full.count / 2)]).write(to: URL(fileURLWithPath: path))
        let e = expectDataIOError { _ = try Dataset.load(path: path) }
        guard case let .archiveRead(p, _, reason)? = e else {
            Issue.record("expected archiveRead, got \(String(describing: e))")
            return
        }
        #expect(p == path)
        #expect(!reason.isEmpty)
        // Every member read also fails cleanly.
        expectDataIOError { try ArchiveSource(path: path).forEachMember { _, _ in } }
    }

    @Test func flippedBytesAreDetected() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundled("uci-digits.tar.gz"))))
        for k in stride(from: data.count / 3, to: data.count / 3 + 64, by: 1) { data[k] ^= 0x5A }
        let path = dir + "/flipped.tar.gz"
        try Data(data).write(to: URL(fileURLWithPath: path))
        expectDataIOError { _ = try Dataset.load(path: path) }
    }

    @Test func corruptOrTruncatedZipIsDetected() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let lines = (0..<2_000).map { "{\"id\": \"s\($0)\", \"text\": \"sample \($0 * 7919 % 1000)\"}\n" }.joined()
        let zip = try writeArchive(dir, "a.zip", [("x/train.jsonl", lines)])
        #expect(try Dataset.load(path: zip).splits.first?.count == 2_000)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: zip)))
        try Data(good[0..<(good.count / 2)]).write(to: URL(fileURLWithPath: dir + "/half.zip"))
        expectDataIOError { _ = try Dataset.load(path: dir + "/half.zip") }
        var flipped = good
        for k in (good.count / 2)..<(good.count / 2 + 16) { flipped[k] ^= 0xA5 }  // inside the deflated data
        try Data(flipped).write(to: URL(fileURLWithPath: dir + "/flip.zip"))
        let e = expectDataIOError { _ = try Dataset.load(path: dir + "/flip.zip") }
        #expect(e?.errorDescription?.contains("flip.zip") == true)
    }

    @Test func truncatedArchiveErrorNamesTheMember() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let full = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundled("rt-sentiment-weak.tar.gz"))))
        let path = dir + "/half.tar.gz"
        try Data(full[0..<(full.count / 2)]).write(to: URL(fileURLWithPath: path))
        let e = expectDataIOError { _ = try ArchiveSource(path: path).members() }
        #expect(e?.errorDescription?.contains("rt-sentiment/train.json") == true, "\(String(describing: e))")
        #expect(e?.errorDescription?.contains("Truncated") == true)
    }

    @Test func unsafeEntryPathsAreRefused() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        for bad in ["/etc/passwd", "../escape.txt", "a/../../b", ""] {
            let e = expectDataIOError { try ArchiveWriter.write(to: dir + "/x.tar.gz", entries: [(path: bad, bytes: [1])]) }
            #expect(e == .unsafeEntryPath(path: bad))
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.tar.gz"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)  // no temp files left
    }

    @Test func failedWriteLeavesNoOutput() throws {
        let dir = try makeTempDir()
        defer { cleanup(dir) }
        let out = dir + "/out.tar.gz"
        do {
            let w = try ArchiveWriter(path: out, kind: .tarGz)
            try w.add(path: "ok.txt", bytes: [1, 2, 3])
            try w.add(path: "../bad", bytes: [1])
            try w.finish()
            Issue.record("expected the bad entry to throw")
        } catch {}
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
