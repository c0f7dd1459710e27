// libFuzzer entry point for the data readers, compiled into the DataIO module by scripts/fuzz.sh (so it reaches
// internal readers too). FUZZ_TARGET picks the reader: json, jsonl, csv, idx, wrench or text. Every input must
// either parse or throw a `DataIOError`; a crash, trap, hang or sanitizer report is a finding.
import Foundation

private let fuzzTarget = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "json"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        switch fuzzTarget {
        case "json": _ = try JSONParser.parse(bytes, source: "fuzz.json")
        case "jsonl": _ = try JSONLFormat.readRaw(bytes, member: "train.jsonl", file: "fuzz.jsonl", options: JSONLOptions())
        case "csv": _ = try CSVFormat.readRaw(bytes, member: "train.csv", file: "fuzz.csv", options: CSVOptions())
        case "idx": _ = try IDXFormat.parse(bytes, file: "fuzz-idx3-ubyte")
        case "wrench": _ = try WRENCHFormat.parseSplit(bytes, name: "train", member: "train.json", file: "train.json", classCount: 3)
        case "text": _ = TextCorpusFormat.raw(bytes, member: "corpus.txt")
        default: fatalError("FUZZ_TARGET must be json, jsonl, csv, idx, wrench or text")
        }
    } catch is DataIOError {
        // A clear error is the expected outcome for bad input.
    } catch {
        fatalError("\(fuzzTarget): an error that is not a DataIOError: \(error)")
    }
    return 0
}
