import Foundation
import Testing
import Recipes
import Runtime
import ResultStore

/// Runs the built `winnow` executable. `swift test` builds it alongside the tests; it sits next to the
/// test bundle (`.build*/release/winnow`).
struct WinnowBinary {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func locate() throws -> URL {
        var candidates: [URL] = []
        if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() {
            candidates.append(bundle.appendingPathComponent("winnow"))
        }
        for bundle in Bundle.allBundles {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("winnow"))
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for folder in [".build-ids", ".build-store", ".build"] {
            candidates.append(root.appendingPathComponent("\(folder)/release/winnow"))
            candidates.append(root.appendingPathComponent("\(folder)/debug/winnow"))
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [NSLocalizedDescriptionKey: "winnow binary not found; build it first (swift build --product winnow)"])
        }
        return found
    }

    /// `environment` is added to this process's environment.
    static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = try locate()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a large output cannot block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

@Suite struct BinaryTests {
    /// A database holding one completed echo-stats run (recorded in-process; the test app is not shipped).
    func populated() throws -> (TemporaryDirectory, String, Int64) {
        let dir = try TemporaryDirectory()
        let recipe = try dir.write("echo.yaml", "application: echo-stats\nvalues: [5, 1, 4, 2, 3]\n")
        let db = dir.path("Outputs/winnow.sqlite")
        let outcome = try ApplicationRunner.run(RunRequest(recipePath: recipe, databasePath: db), registry: testRegistry)
        return (dir, db, outcome.runID)
    }

    @Test func queries() throws {
        let (dir, _, runID) = try populated()
        // The default database path is relative to the working directory.
        let runs = try WinnowBinary.run(["runs", "--json"], in: dir.url)
        #expect(runs.status == 0, "\(runs.stderr)")
        #expect(runs.stdout.contains("\"application\": \"echo-stats\"") && runs.stdout.contains("\"status\": \"completed\""))

        let top = try WinnowBinary.run(["weights", "--run", "\(runID)", "--top", "2", "--format", "csv"], in: dir.url)
        #expect(top.status == 0, "\(top.stderr)")
        #expect(top.stdout == "step,sample_id,sample,weight\n3,0,0,15.0\n3,2,2,12.0\n")  // no keys: sample = id
        let bottom = try WinnowBinary.run(["weights", "--run", "\(runID)", "--bottom", "1", "--json"], in: dir.url)
        #expect(bottom.stdout == "[{\"step\": 3, \"sample_id\": 1, \"sample\": 1, \"weight\": 3}]\n")
        let sample = try WinnowBinary.run(["weights", "--run", "\(runID)", "--sample", "4", "--format", "csv"], in: dir.url)
        #expect(sample.stdout == "step,sample_id,sample,weight\n1,4,4,3.0\n2,4,4,6.0\n3,4,4,9.0\n")
        let histogram = try WinnowBinary.run(
            ["weights", "--run", "\(runID)", "--histogram", "--bins", "4", "--format", "csv"], in: dir.url)
        #expect(histogram.stdout.split(separator: "\n").count == 5)
        let table = try WinnowBinary.run(["weights", "--run", "\(runID)"], in: dir.url)
        #expect(table.stdout.hasPrefix("step  sample_id  sample  weight\n"))

        let labels = try WinnowBinary.run(["labels", "--run", "\(runID)", "--changed", "--format", "csv"], in: dir.url)
        #expect(labels.status == 0, "\(labels.stderr)")
        // mean 3: values 5, 4 → 1; weak labels alternate 0, 1, 0, 1, 0.
        #expect(
            labels.stdout.split(separator: "\n").map { $0.split(separator: ",").prefix(4).joined(separator: ",") }
                == ["sample_id,sample,original_label,corrected_label", "0,0,0,1", "1,1,1,0", "2,2,0,1", "3,3,1,0"])
    }

    @Test func exportManifest() throws {
        let (dir, db, runID) = try populated()
        let keep = try WinnowBinary.run(
            ["export", "manifest", "--run", "\(runID)", "--keep", "0.4", "--output", "kept.jsonl", "--db", db], in: dir.url)
        #expect(keep.status == 0, "\(keep.stderr)")
        #expect(
            try String(contentsOfFile: dir.path("kept.jsonl"), encoding: .utf8)
                == "{\"sample_id\": 0, \"score\": 5}\n{\"sample_id\": 2, \"score\": 4}\n")
        let prune = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(runID)", "--prune", "0.2", "--by", "weight",
                "--output", "kept.csv", "--db", db,
            ], in: dir.url)
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(try String(contentsOfFile: dir.path("kept.csv"), encoding: .utf8) == "sample_id,weight\n0,15.0\n2,12.0\n3,6.0\n4,9.0\n")
        let archive = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(runID)", "--keep", "0.5", "--output", "a.jsonl",
                "--archive", "a.tar.gz", "--db", db,
            ], in: dir.url)
        // The echo recipe names no dataset archive: an error naming the run and the key, nothing written.
        #expect(archive.status == 1)
        #expect(
            archive.stderr
                == "error: --archive: the recipe of run \(runID) in \(db) has no 'dataset.archive' key, so the run's dataset is unknown\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path("a.jsonl")))
        #expect(!FileManager.default.fileExists(atPath: dir.path("a.tar.gz")))
    }

    @Test func exitCodesAndMessages() throws {
        let (dir, db, _) = try populated()
        // Unknown run id: runtime failure naming the database.
        let unknown = try WinnowBinary.run(["weights", "--run", "999", "--db", db], in: dir.url)
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: no run with id 999 in \(db) (list runs with `winnow runs --db \(db)`)\n")
        // Usage errors exit 2.
        let both = try WinnowBinary.run(["weights", "--run", "1", "--top", "2", "--histogram", "--db", db], in: dir.url)
        #expect(both.status == 2)
        #expect(both.stderr.hasPrefix("error: choose one of --top, --bottom, --sample, --histogram"))
        let fraction = try WinnowBinary.run(["export", "manifest", "--run", "1", "--keep", "1.5", "--output", "x"], in: dir.url)
        #expect(fraction.status == 2)
        let badSet = try WinnowBinary.run(["run", "echo.yaml", "--set", "oops"], in: dir.url)
        #expect(badSet.status == 2)
        #expect(badSet.stderr.hasPrefix("error: --set oops: expected key=value"))
        // Recipe errors are usage errors too (the shipped binary does not know the test application).
        let missing = try WinnowBinary.run(["run", "missing.yaml"], in: dir.url)
        #expect(missing.status == 2)
        #expect(missing.stderr == "error: recipe file missing.yaml does not exist\n")
        let app = try WinnowBinary.run(["run", "echo.yaml", "--db", db], in: dir.url)
        #expect(app.status == 2)
        #expect(app.stderr.hasPrefix("error: echo.yaml:1: unknown application 'echo-stats'"))
        // Missing and corrupt databases: runtime failures naming the file.
        let absent = try WinnowBinary.run(["runs", "--db", "nothing.sqlite"], in: dir.url)
        #expect(absent.status == 1)
        #expect(absent.stderr.hasPrefix("error: no result database at nothing.sqlite"))
        try dir.write("corrupt.sqlite", String(repeating: "garbage ", count: 1000))
        let corrupt = try WinnowBinary.run(["runs", "--db", "corrupt.sqlite"], in: dir.url)
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr.hasPrefix("error: result database corrupt.sqlite is not a valid SQLite database"))
        // Help exits 0 on stdout.
        let help = try WinnowBinary.run(["--help"], in: dir.url)
        #expect(help.status == 0 && help.stdout.contains("SUBCOMMANDS") && help.stderr.isEmpty)
    }
}
