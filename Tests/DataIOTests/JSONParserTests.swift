import Foundation
import Testing
@testable import DataIO

@Suite struct JSONParserTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(bytes(s), source: "t.json") }

    @Test func scalarsAndNesting() throws {
        let v = try parse(#" {"a": [1, -2, 3.5, true, false, null, {"b": {"c": []}}], "d": {}, "e": ""} "#)
        #expect(
            v["a"]
                == .array([
                    .number(1), .number(-2), .number(3.5), .bool(true), .bool(false), .null,
                    .object(JSONObject(keys: ["b"], values: [.object(JSONObject(keys: ["c"], values: [.array([])]))])),
                ]))
        #expect(v["d"] == .object(JSONObject()))
        #expect(v["e"] == .string(""))
        #expect(v.objectValue?.keys == ["a", "d", "e"])  // document order kept
    }

    @Test func numbersIncludingExponents() throws {
        let cases: [(String, Double)] = [
            ("0", 0), ("-0", -0.0), ("12345678901234567", 12_345_678_901_234_568), ("1e3", 1000), ("1E+3", 1000),
            ("2.5e-3", 0.0025), ("-1.25E2", -125), ("0.1", 0.1), ("123.456", 123.456),
            ("1.7976931348623157e308", 1.7976931348623157e308), ("5e-324", .leastNonzeroMagnitude),
            ("3.141592653589793238462643383279", 3.141592653589793), ("1e22", 1e22), ("1e23", 1e23),
            ("9007199254740993", 9007199254740992),
        ]
        for (text, expected) in cases {
            let v = try parse(text)
            #expect(v == .number(expected), "\(text)")
        }
        #expect(try parse("7").intValue == 7)
        #expect(try parse("7.5").intValue == nil)
    }

    @Test func stringEscapesAndUnicode() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d""#) == .string("é中"))
        #expect(try parse(#""\ud83d\ude00 ok""#) == .string("😀 ok"))  // surrogate pair
        #expect(try parse("\"raw UTF-8: naïve 日本 🎉\"") == .string("raw UTF-8: naïve 日本 🎉"))
        #expect(try parse(#""\u0041\u0000z""#) == .string("A\u{0}z"))
    }

    @Test func serialiserRoundTrips() throws {
        let text = #"{"id": "x\"\n\u0001", "n": [1, 2.5, -3e-07, true, null], "o": {"k": "é😀"}}"#
        let v = try parse(text)
        #expect(try parse(v.serialized()) == v)
        #expect(v.serialized().hasPrefix(#"{"id": "x\"\n\u0001", "n": [1, 2.5, "#))
    }

    @Test func errorsReportLineColumnAndOffset() throws {
        func failure(_ s: String) -> DataIOError? { expectDataIOError { _ = try parse(s) } }
        #expect(
            failure("{\"a\": 1,\n \"b\": tru}")
                == .malformedJSON(file: "t.json", line: 2, column: 10, byteOffset: 18, reason: "invalid literal"))
        guard case let .malformedJSON(file, line, _, offset, _)? = failure("[1, 2,\n\n  ]") else {
            Issue.record("expected malformedJSON"); return
        }
        #expect(file == "t.json" && line == 3 && offset == 10)
        for bad in [
            "", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "\"unterminated", "01", "1.", "1e", "-", "[1]x",
            "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u12\"", "{1:2}", "nul", "\"tab\there\"",
        ] {
            let e = failure(bad)
            if case .malformedJSON? = e {} else { Issue.record("\(bad.debugDescription) gave \(String(describing: e))") }
        }
        let message = failure("{\n\n  \"k\": ]")?.errorDescription ?? ""
        #expect(message.contains("t.json") && message.contains("line 3") && message.contains("byte offset 10"))
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let e = expectDataIOError { _ = try parse(deep) }
        #expect(e?.errorDescription?.contains("nesting") == true)
        let ok = try parse(String(repeating: "[", count: 500) + String(repeating: "]", count: 500))
        #expect(ok.arrayValue?.count == 1)
    }

    @Test func agreesWithFoundationOnTheBundledTrainSplit() throws {
        let data = try ArchiveSource(path: bundled("rt-sentiment-weak.tar.gz")).read(member: "rt-sentiment/train.json")
        let mine = try JSONParser.parse(data, source: "train.json")
        let theirs = try JSONSerialization.jsonObject(with: Data(data)) as? [String: [String: Any]] ?? [:]
        let obj = try #require(mine.objectValue)
        #expect(obj.count == theirs.count && obj.count == 10_663)
        for (id, v) in obj {
            let ref = try #require(theirs[id])
            #expect(v["data"]?["text"]?.stringValue == (ref["data"] as? [String: Any])?["text"] as? String)
            #expect(v["weak_labels"]?.arrayValue?.compactMap(\.intValue) == ref["weak_labels"] as? [Int])
        }
    }

    /// The benchmark runs on the bundled WRENCH train.json and prints its figures together with Foundation's
    /// JSONDecoder on the same bytes. The speed target (≥ 100 MB/s, release build) is measured by the
    /// benchmark command and recorded in docs/benchmark-notes.md, not asserted here: a timed unit test fails on a busy
    /// machine (this debug build ran at 45 MB/s with the whole suite in parallel).
    @Test func benchmarkRunsOnTheBundledData() throws {
        let result = try JSONBenchmark.run(path: bundled("rt-sentiment-weak.tar.gz"), runs: 3)
        #expect(result.bytes == 2_201_989)
        #expect(result.source.hasSuffix(":rt-sentiment/train.json"))
        #expect(result.mbPerSecond > 0 && result.mbPerSecond.isFinite, "\(result)")
        struct Entry: Decodable {
            struct Payload: Decodable { var text: String }
            var label: Int
            var weak_labels: [Int]
            var data: Payload
        }
        let data = Data(try ArchiveSource(path: bundled("rt-sentiment-weak.tar.gz")).read(member: "rt-sentiment/train.json"))
        var times: [Double] = []
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let decoded = try JSONDecoder().decode([String: Entry].self, from: data)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            #expect(decoded.count == 10_663)
        }
        let foundation = Double(data.count) / times.sorted()[1] / 1e6
        print("JSON benchmark: \(result); Foundation JSONDecoder: \(Int(foundation)) MB/s")
    }
}
