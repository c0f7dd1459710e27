import Runtime
import DataIO
import Foundation
import ResultStore
import Testing

/// "Nothing lost, nothing crashes": exports never write over their inputs or, without --force, over any
/// file; archive names pick a real format or are refused; numeric options are bounded; --db folders are
/// never created; interrupted exports leave nothing behind.
@Suite struct SafetyTests {
    /// Bytes of every file under `dir` (the database's -wal/-shm come and go with connections: left out).
    func snapshot(_ dir: TemporaryDirectory) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let names = (FileManager.default.enumerator(atPath: dir.url.path)?.allObjects as? [String]) ?? []
        for name in names where !name.hasSuffix("-wal") && !name.hasSuffix("-shm") {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.path(name), isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: dir.path(name)))
            }
        }
        return files
    }

    func export(_ runID: Int64, _ extra: [String], db: String) -> [String] {
        ["export", "manifest", "--run", "\(runID)", "--keep", "0.5", "--by", "weight"] + extra + ["--db", db]
    }

    /// Every refused export: non-zero exit, the error names the option, and every file in the folder (the
    /// source dataset and the database among them) is byte-identical afterwards, with nothing added.
    @Test func refusedExportsChangeNothing() throws {
        let dir = try TemporaryDirectory()
        let (db, runID, source, _) = try DatasetArchiveTests().recordedRun(dir)
        try FileManager.default.copyItem(atPath: db, toPath: dir.path("results.tar"))
        try FileManager.default.linkItem(atPath: source, toPath: dir.path("hardlink.tar.gz"))
        try FileManager.default.createSymbolicLink(atPath: dir.path("symlink.sqlite"), withDestinationPath: db)
        let before = try snapshot(dir)
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (export(runID, ["--output", source], db: db), 1, "--output \(source): refusing to overwrite the run's source dataset"),
            (export(runID, ["--output", source, "--force"], db: db), 1, "refusing to overwrite the run's source dataset"),
            (export(runID, ["--output", "hardlink.tar.gz", "--force"], db: db), 1, "refusing to overwrite the run's source dataset"),
            (export(runID, ["--output", "k.jsonl", "--archive", source, "--force"], db: db), 1, "--archive \(source): refusing"),
            (export(runID, ["--output", db], db: db), 1, "--output \(db): refusing to overwrite the result database"),
            (export(runID, ["--output", db, "--force"], db: db), 1, "refusing to overwrite the result database"),
            (export(runID, ["--output", db + "-wal", "--force"], db: db), 1, "refusing to overwrite the result database"),
            (export(runID, ["--output", db + "-shm", "--force"], db: db), 1, "refusing to overwrite the result database"),
            (export(runID, ["--output", "symlink.sqlite", "--force"], db: db), 1, "refusing to overwrite the result database"),
            (
                export(runID, ["--output", "k.jsonl", "--archive", "results.tar", "--force"], db: "results.tar"), 1,
                "--archive results.tar: refusing to overwrite the result database results.tar"
            ),
            (export(runID, ["--output", "k.jsonl", "--archive", db], db: db), 2, "--archive \(db): cannot write this archive format"),
            (export(runID, ["--output", "k.tar", "--archive", "./k.tar"], db: db), 2, "--archive and --output name the same file"),
            (export(runID, ["--output", "nowhere/k.jsonl"], db: db), 1, "--output nowhere/k.jsonl: folder nowhere does not exist"),
        ]
        for (arguments, status, message) in cases {
            let result = try WinnowBinary.run(arguments, in: dir.url)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(try snapshot(dir) == before, "\(arguments) changed or added a file")
        }
    }

    /// An existing --output or --archive is refused without --force (left as it was) and replaced with it.
    @Test func existingOutputsNeedForce() throws {
        let dir = try TemporaryDirectory()
        let (db, runID, _, keys) = try DatasetArchiveTests().recordedRun(dir)
        try dir.write("kept.jsonl", "old manifest\n")
        try dir.write("kept.tar.gz", "old archive\n")
        for extra in [["--output", "kept.jsonl"], ["--output", "new.jsonl", "--archive", "kept.tar.gz"]] {
            let refused = try WinnowBinary.run(export(runID, extra, db: db), in: dir.url)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains(": the file exists; pass --force to replace it"), "\(refused.stderr)")
        }
        #expect(try String(contentsOfFile: dir.path("kept.jsonl"), encoding: .utf8) == "old manifest\n")
        #expect(try String(contentsOfFile: dir.path("kept.tar.gz"), encoding: .utf8) == "old archive\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path("new.jsonl")))

        let everything = ["--output", "kept.jsonl", "--archive", "kept.tar.gz", "--force"]
        let forced = try WinnowBinary.run(export(runID, everything, db: db), in: dir.url)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: dir.path("kept.jsonl"), encoding: .utf8).split(separator: "\n").count == 5)
        #expect(try Dataset.load(path: dir.path("kept.tar.gz"))[split: "train"]?.ids == Array(keys.suffix(5)))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// `--archive z` used to trap (exit 132) and `x.rar` to be a gzip tar: both are refused before anything
    /// is written; `.tar.bz2` is written as bzip2 and `winnow datasets inspect` reads it back.
    @Test func archiveNamesPickTheFormat() throws {
        let dir = try TemporaryDirectory()
        let (db, runID, _, _) = try DatasetArchiveTests().recordedRun(dir)
        let before = try snapshot(dir)
        for name in ["z", "x.rar", "x.7z", "x.gz"] {
            let result = try WinnowBinary.run(export(runID, ["--output", "k.jsonl", "--archive", name], db: db), in: dir.url)
            #expect(result.status == 2, "\(name): \(result.stderr)")
            #expect(
                result.stderr.hasPrefix("error: --archive \(name): cannot write this archive format; name it with one of .tar.gz"),
                "\(result.stderr)")
            #expect(result.stderr.contains(".tar.bz2"))
            #expect(try snapshot(dir) == before)
        }
        let bz2 = try WinnowBinary.run(export(runID, ["--output", "k.jsonl", "--archive", "x.tar.bz2"], db: db), in: dir.url)
        #expect(bz2.status == 0, "\(bz2.stderr)")
        let head = try #require(FileHandle(forReadingAtPath: dir.path("x.tar.bz2"))).readData(ofLength: 3)
        #expect(Array(head) == Array("BZh".utf8))
        let inspect = try WinnowBinary.run(["datasets", "inspect", "x.tar.bz2"], in: dir.url)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("train: 5 records"), "\(inspect.stdout)")
    }

    @Test func numericOptionsAreBounded() throws {
        let dir = try TemporaryDirectory()
        let (db, runID, _, _) = try DatasetArchiveTests().recordedRun(dir)
        let run = "\(runID)"
        let usage: [([String], String)] = [
            (["weights", "--run", run, "--histogram", "--bins", "100000000"], "--bins must be 1…10000, got 100000000"),
            (["weights", "--run", run, "--histogram", "--bins", "0"], "--bins must be 1…10000, got 0"),
            (["weights", "--run", run, "--top", "0"], "--top must be 1…10000000, got 0"),
            (["weights", "--run", run, "--top", "10000001"], "--top must be 1…10000000"),
            (["weights", "--run", run, "--bottom", "99999999999"], "--bottom must be 1…10000000"),
            (["weights", "--run", run, "--step=-1"], "--step must be 0 or more, got -1"),
            (["weights", "--run", "0"], "--run must be a run id"),
            (["labels", "--run", "-3"], ""),
            (["runs", "--limit", "0"], "--limit must be 1…10000000, got 0"),
            (["export", "manifest", "--run", run, "--keep", "nan", "--output", "k.jsonl"], "--keep must be in (0, 1]"),
            (
                ["export", "manifest", "--run", run, "--prune", "0", "--output", "k.jsonl"],
                "--prune must be strictly between 0 and 1, got 0.0"
            ),
            (["run", "--resume", "0"], "--resume must be a run id"),
        ]
        for (arguments, message) in usage {
            let result = try WinnowBinary.run(arguments + ["--db", db], in: dir.url)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: " + message), "\(arguments): \(result.stderr)")
        }
        let widest = try WinnowBinary.run(
            ["weights", "--run", run, "--histogram", "--bins", "10000", "--format", "csv", "--db", db],
            in: dir.url)
        #expect(widest.status == 0 && widest.stdout.split(separator: "\n").count == 10_001, "\(widest.stderr)")
        // A step past the last one recorded: an error naming the last step, not an empty table.
        for extra in [["--top", "3"], ["--bottom", "3"], ["--histogram"]] {
            let late = try WinnowBinary.run(["weights", "--run", run, "--step", "7", "--db", db] + extra, in: dir.url)
            #expect(late.status == 1)
            #expect(late.stderr == "error: run \(run) in \(db) has no sample weights at step 7 (its last step with weights is 1)\n")
            #expect(late.stdout.isEmpty)
        }
    }

    /// No command creates the --db folder: each names it and exits non-zero, and the folder stays absent.
    @Test func missingDatabaseFolderIsAnError() throws {
        let dir = try TemporaryDirectory()
        try dir.write("echo.yaml", "application: echo-stats\n")
        let commands: [[String]] = [
            ["runs"], ["weights", "--run", "1"], ["labels", "--run", "1"],
            ["export", "manifest", "--run", "1", "--keep", "0.5", "--output", "k.jsonl"], ["run", "echo.yaml"],
        ]
        for database in ["missing/dir/x.sqlite", "/missing/dir/x.sqlite"] {
            let folder = database.hasPrefix("/") ? "/missing/dir" : "missing/dir"
            for command in commands {
                let result = try WinnowBinary.run(command + ["--db", database], in: dir.url)
                #expect(result.status == 1, "\(command): \(result.stderr)")
                #expect(
                    result.stderr
                        == "error: result database \(database): folder \(folder) does not exist (create it first, e.g. mkdir -p "
                        + "\(folder))\n"
                )
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("missing")))
        #expect(!FileManager.default.fileExists(atPath: "/missing"))
        // The default database is Outputs/winnow.sqlite in the working folder: without Outputs/ it is named too.
        let noOutputs = try WinnowBinary.run(["run", "echo.yaml"], in: dir.url)
        #expect(
            noOutputs.stderr.hasPrefix("error: result database Outputs/winnow.sqlite: folder Outputs does not exist"),
            "\(noOutputs.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("Outputs")))
    }

    @Test func versionFlag() throws {
        let dir = try TemporaryDirectory()
        let version = try WinnowBinary.run(["--version"], in: dir.url)
        #expect(version.status == 0 && version.stdout == "0.4.0\n" && version.stderr.isEmpty)
    }

    /// `winnow runs --checkpoints` shows the space a run keeps: RunContext keeps the newest checkpoint file
    /// only, in the folder ResultStore.checkpointFolder names; a stray file there counts as an orphan.
    @Test func runsShowCheckpointSpace() throws {
        let dir = try TemporaryDirectory()
        let recipe = try dir.write("echo.yaml", "application: echo-stats\nvalues: [5, 1, 4]\ncheckpoint: true\n")
        let db = dir.path("w.sqlite")
        let outcome = try ApplicationRunner.run(RunRequest(recipePath: recipe, databasePath: db), registry: testRegistry)
        let store = try ResultStore(path: db, mode: .existing)
        let usage = try store.checkpointUsage(run: outcome.runID)
        #expect(usage.files.map(\.step) == [3] && usage.files.map(\.byteCount) == [6] && usage.missingFileCount == 2)
        #expect(FileManager.default.fileExists(atPath: store.checkpointFolder(run: outcome.runID) + "/step-3.safetensors"))
        try Data("stray".utf8).write(to: URL(fileURLWithPath: store.checkpointFolder(run: outcome.runID) + "/step-9.safetensors"))

        let json = try WinnowBinary.run(["runs", "--checkpoints", "--json", "--db", db], in: dir.url)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains("\"checkpoints\": {\"bytes\": 11, \"files\": 2, \"orphans\": 1}"), "\(json.stdout)")
        let table = try WinnowBinary.run(["runs", "--checkpoints", "--db", db], in: dir.url)
        #expect(table.stdout.contains("11 B in 2 files (1 orphan)"), "\(table.stdout)")
        let plain = try WinnowBinary.run(["runs", "--json", "--db", db], in: dir.url)
        #expect(!plain.stdout.contains("checkpoints"))
        #expect(try store.removeOrphanCheckpoints(run: outcome.runID).count == 1)
        #expect(try store.checkpointUsage(run: outcome.runID).files.count == 1)
    }

    /// An export killed with SIGKILL cannot clean up: the next export to the same outputs removes the temporaries
    /// whose process is gone (and says so), and leaves those of a live process alone.
    @Test func killedExportTemporariesAreRemovedByTheNextExport() throws {
        let dir = try TemporaryDirectory()
        let (db, runID, _, _) = try DatasetArchiveTests().recordedRun(dir)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        let stale = [".kept.jsonl.tmp-\(dead)", ".kept.tar.gz.tmp-\(dead)-12345"], live = ".kept.jsonl.tmp-1"
        for name in stale + [live] { try Data("partial".utf8).write(to: dir.url.appendingPathComponent(name)) }
        let result = try WinnowBinary.run(export(runID, ["--output", "kept.jsonl", "--archive", "kept.tar.gz"], db: db), in: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        for name in stale {
            #expect(!FileManager.default.fileExists(atPath: dir.path(name)), "\(name) left")
            #expect(result.stderr.contains("note: removed ./\(name), left by an export that was killed"), "\(result.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: dir.path(live)), "a live process's temporary was removed")
        #expect(
            FileManager.default.fileExists(atPath: dir.path("kept.jsonl"))
                && FileManager.default.fileExists(atPath: dir.path("kept.tar.gz")))
    }

    /// With the shipped noisy-label application on the bundled RT set: `winnow run` with the default
    /// database from a folder with Outputs/, the export over the run's own dataset refused (the bundled bug:
    /// it was overwritten, exit 0), an export interrupted by Ctrl-C leaving nothing, and a one-character
    /// --db name (it used to trap in the store's folder handling).
    @Test func realRunAndInterruptedExport() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.copyItem(atPath: bundledRT, toPath: dir.path("rt.tar.gz"))
        let recipe = URL(fileURLWithPath: bundledRT).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Recipes/noisy-labels/sama-reweight-correct.yaml").path
        let run = ["run", recipe, "--set", "training.epochs=1", "--set", "dataset.archive=\(dir.path("rt.tar.gz"))", "--json"]
        try FileManager.default.createDirectory(atPath: dir.path("Outputs"), withIntermediateDirectories: false)
        let first = try WinnowBinary.run(run, in: dir.url)
        #expect(first.status == 0, "\(first.stderr)")
        let db = "Outputs/winnow.sqlite"
        #expect(FileManager.default.fileExists(atPath: dir.path(db)))

        let before = try snapshot(dir)
        let over = try WinnowBinary.run(export(1, ["--output", "rt.tar.gz"], db: db), in: dir.url)
        #expect(over.status == 1 && over.stderr.contains("refusing to overwrite the run's source dataset"), "\(over.stderr)")
        #expect(try snapshot(dir) == before)

        // xz is slow enough to catch the export while its temporary archive exists.
        let process = Process()
        process.executableURL = try WinnowBinary.locate()
        process.arguments = export(1, ["--output", "kept.jsonl", "--archive", "kept.tar.xz"], db: db)
        process.currentDirectoryURL = dir.url
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var sawTemporary = false
        for _ in 0..<20_000 where process.isRunning {
            if try FileManager.default.contentsOfDirectory(atPath: dir.url.path).contains(where: { $0.hasPrefix(".kept.tar.xz.tmp-") }) {
                sawTemporary = true
                process.interrupt()
                break
            }
            usleep(500)
        }
        process.waitUntilExit()
        if sawTemporary {
            #expect(process.terminationStatus == 130)
            #expect(try snapshot(dir) == before)
            let hidden = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(".") }
            #expect(hidden.isEmpty, "\(hidden)")
        } else {
            withKnownIssue("the export finished before its temporary archive was seen") { Issue.record("not interrupted") }
        }

        let short = try WinnowBinary.run(run + ["--db", "q"], in: dir.url)
        #expect(short.status == 0, "\(short.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.path("q")))
    }
}
