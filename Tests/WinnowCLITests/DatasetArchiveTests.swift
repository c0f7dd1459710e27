import DataIO
import Foundation
import Testing
import ResultStore

/// The bundled RT weak-label archive (three levels above this file, under Datasets/).
let bundledRT: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Datasets/rt-sentiment-weak.tar.gz").path

/// `winnow datasets inspect` and `winnow export manifest --archive`, through the built binary.
@Suite struct DatasetArchiveTests {
    @Test func inspectPrintsSplitsAndCounts() throws {
        let dir = try TemporaryDirectory()
        let text = try WinnowBinary.run(["datasets", "inspect", bundledRT], in: dir.url)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("[format: wrench]"))
        #expect(text.stdout.contains("  train: 10663 records from rt-sentiment/train.json"))
        #expect(text.stdout.contains("  valid: 1139 records from rt-sentiment/valid.json"))
        #expect(text.stdout.contains("  test: 1006 records from rt-sentiment/test.json"))
        #expect(text.stdout.contains("coverage 89.0% (≥1 vote), unique majority 81.6%"))

        let json = try WinnowBinary.run(["datasets", "inspect", bundledRT, "--json"], in: dir.url)
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONDecoder().decode(DatasetReport.self, from: Data(json.stdout.utf8))
        #expect(report.splits.map(\.name) == ["train", "valid", "test"])
        #expect(report.splits.map(\.count) == [10_663, 1_139, 1_006])
        #expect(report.classNames == ["rotten", "fresh"])
    }

    @Test func inspectFailuresNameTheFile() throws {
        let dir = try TemporaryDirectory()
        // The first 300 kB of the archive: a truncated gzip stream.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bundledRT))
        let truncated = dir.path("truncated.tar.gz")
        try bytes.prefix(300_000).write(to: URL(fileURLWithPath: truncated))
        let broken = try WinnowBinary.run(["datasets", "inspect", "truncated.tar.gz"], in: dir.url)
        #expect(broken.status == 1)
        #expect(broken.stderr.hasPrefix("error: truncated.tar.gz: "), "\(broken.stderr)")
        #expect(broken.stdout.isEmpty)
        let missing = try WinnowBinary.run(["datasets", "inspect", "nothing.tar.gz"], in: dir.url)
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: nothing.tar.gz: no such file or directory\n")
        let usage = try WinnowBinary.run(["datasets", "inspect"], in: dir.url)
        #expect(usage.status == 2)
    }

    /// A small JSONL dataset (train with intrinsic ids, test) and a completed run over its train split:
    /// keys registered from the loaded dataset, weight i/10 for the i-th key, recipe naming the archive.
    func recordedRun(
        _ dir: TemporaryDirectory, recipeArchive: String? = nil, extraKey: String? = nil
    )
        throws -> (db: String, runID: Int64, source: String, keys: [String])
    {
        let source = dir.path("toy.tar.gz")
        let train = (0..<10).map { "{\"id\": \"doc-\($0 * 7)\", \"text\": \"text \($0)\", \"label\": \($0 % 2)}" }
        try ArchiveWriter.write(
            to: source,
            entries: [
                (path: "toy/train.jsonl", bytes: Array((train.joined(separator: "\n") + "\n").utf8)),
                (path: "toy/test.jsonl", bytes: Array("{\"id\": \"t-1\", \"text\": \"x\", \"label\": 1}\n".utf8)),
            ])
        let keys = try #require(try Dataset.load(path: source)[split: "train"]).ids
        let db = dir.path("w.sqlite")
        let store = try ResultStore(path: db)
        let recipe = "application: toy\nseed: 1\ndataset:\n  archive: \(recipeArchive ?? source)\n"
        let recorder = try store.beginRun(RunDescriptor(application: "toy", recipe: recipe, seed: 1))
        let allKeys = keys + (extraKey.map { [$0] } ?? [])
        try recorder.registerSamples(keys: allKeys, split: "train")
        // Recorded in reverse key order to show the mapping, not the position, decides.
        try recorder.recordWeights(allKeys.indices.reversed().map { Float($0) / 10 }, step: 1, keys: allKeys.reversed())
        try recorder.complete(metrics: [:])
        return (db, recorder.runID, source, keys)
    }

    @Test func exportManifestWritesTheKeptRecordsAsAnArchive() throws {
        let dir = try TemporaryDirectory()
        let (db, runID, source, keys) = try recordedRun(dir)
        let sourceBytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let result = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(runID)", "--keep", "0.5", "--by", "weight",
                "--output", "kept.jsonl", "--archive", "out.tar.gz", "--db", db,
            ], in: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        // Weight grows with position: the last five keys are kept.
        let expected = Array(keys.suffix(5))
        let out = try Dataset.load(path: dir.path("out.tar.gz"))
        #expect(out.format == .jsonl)
        #expect(out[split: "train"]?.ids == expected)
        #expect(out[split: "test"]?.ids == ["t-1"])  // unpruned split copied whole
        let manifest = try String(contentsOfFile: dir.path("kept.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(manifest.count == 5)
        #expect(manifest.first == "{\"sample_id\": 5, \"sample\": \"\(expected[0])\", \"weight\": 0.5}")
        #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == sourceBytes)

        // Query output shows keys and the records' texts (re-read from the archive); --sample takes a key.
        let top = try WinnowBinary.run(["weights", "--run", "\(runID)", "--top", "1", "--format", "csv", "--db", db], in: dir.url)
        #expect(top.stdout == "step,sample_id,sample,weight,text\n1,9,doc-63,0.8999999761581421,text 9\n", "\(top.stderr)")
        let one = try WinnowBinary.run(["weights", "--run", "\(runID)", "--sample", "doc-14", "--json", "--db", db], in: dir.url)
        #expect(
            one.stdout
                == "[{\"step\": 1, \"sample_id\": 2, \"sample\": \"doc-14\", \"weight\": 0.20000000298023224, \"text\": \"text 2\"}]\n",
            "\(one.stderr)")
        let unknown = try WinnowBinary.run(["weights", "--run", "\(runID)", "--sample", "doc-15", "--db", db], in: dir.url)
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: run \(runID) in \(db) has no sample with key 'doc-15'\n")

        // Never over the source archive; nothing written.
        let over = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(runID)", "--keep", "0.5", "--by", "weight",
                "--output", "again.jsonl", "--archive", source, "--db", db,
            ], in: dir.url)
        #expect(over.status == 1)
        #expect(over.stderr == "error: --archive \(source): refusing to overwrite the run's source dataset \(source)\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == sourceBytes)
        #expect(!FileManager.default.fileExists(atPath: dir.path("again.jsonl")))
        let manifestOver = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(runID)", "--keep", "0.5", "--by", "weight",
                "--output", source, "--archive", "again.tar.gz", "--db", db,
            ], in: dir.url)
        #expect(manifestOver.status == 1)
        #expect(manifestOver.stderr == "error: --output \(source): refusing to overwrite the run's source dataset \(source)\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == sourceBytes)
        #expect(!FileManager.default.fileExists(atPath: dir.path("again.tar.gz")))
    }

    @Test func exportManifestArchiveErrors() throws {
        // A kept key the dataset does not have: named, and neither file is written.
        let dir = try TemporaryDirectory()
        let (db, runID, source, _) = try recordedRun(dir, extraKey: "ghost-1")
        let ghost = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(runID)", "--keep", "0.5", "--by", "weight",
                "--output", "kept.jsonl", "--archive", "out.tar.gz", "--db", db,
            ], in: dir.url)
        #expect(ghost.status == 1)
        #expect(ghost.stderr == "error: --archive: sample 'ghost-1' of the manifest is not in \(source) (split train)\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter {
            $0.hasPrefix("out") || $0.hasPrefix("kept") || $0.contains(".tmp")
        }
        #expect(leftovers.isEmpty, "\(leftovers)")

        // A run that recorded positional ids only cannot be matched to records.
        let store = try ResultStore(path: db)
        let positional = try store.beginRun(RunDescriptor(application: "toy", recipe: "dataset:\n  archive: \(source)\n", seed: 0))
        try positional.recordWeights([1, 2, 3] as [Float], step: 1)
        try positional.complete(metrics: [:])
        let unkeyed = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(positional.runID)", "--keep", "0.5", "--by", "weight",
                "--output", "kept.jsonl", "--archive", "out.tar.gz", "--db", db,
            ], in: dir.url)
        #expect(unkeyed.status == 1)
        #expect(
            unkeyed.stderr.hasPrefix("error: --archive: run \(positional.runID) in \(db) registered no sample keys"), "\(unkeyed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("out.tar.gz")))

        // The recipe's archive is gone: the error names the path.
        let moved = try TemporaryDirectory()
        let (db2, runID2, _, _) = try recordedRun(moved, recipeArchive: moved.path("elsewhere.tar.gz"))
        let absent = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(runID2)", "--keep", "0.5", "--by", "weight",
                "--output", "kept.jsonl", "--archive", "out.tar.gz", "--db", db2,
            ], in: moved.url)
        #expect(absent.status == 1)
        #expect(absent.stderr == "error: \(moved.path("elsewhere.tar.gz")): no such file or directory\n")
        #expect(!FileManager.default.fileExists(atPath: moved.path("kept.jsonl")))
    }
}
