import Foundation
import Recipes
import ResultStore
import Runtime
import Testing

/// `winnow report --compare`: the comparison of runs (shared metrics, differences, recipe keys that differ, curves),
/// the page through the executable and its refusals; the environment every run records (`show`, `report --run`).
@Suite struct CompareReportTests {
    /// Two echo-stats runs that differ in values, steps and reduction, and a run recorded by hand with accuracies.
    func makeRuns(_ dir: TemporaryDirectory, db: String) throws -> (first: Int64, second: Int64, accuracy: Int64) {
        let first = try dir.write("a.yaml", "application: echo-stats\nvalues: [1, 2, 3, 4]\n")
        let second = try dir.write("b.yaml", "application: echo-stats\nvalues: [2, 4]\nreduction: sum\ntraining:\n  steps: 2\n")
        let a = try ApplicationRunner.run(RunRequest(recipePath: first, databasePath: db), registry: testRegistry)
        let b = try ApplicationRunner.run(RunRequest(recipePath: second, databasePath: db), registry: testRegistry)
        let store = try ResultStore(path: db, mode: .existing)
        let recorder = try store.beginRun(
            RunDescriptor(application: "echo-stats", recipe: "application: echo-stats\nvalues: [1, 2]\n", seed: 0))
        try recorder.recordMetrics(["reduced": 1], step: 1)
        try recorder.complete(metrics: ["reduced": 2, "count": 2, "seed": 0, "test_accuracy": 0.825])
        return (a.runID, b.runID, recorder.runID)
    }

    @Test func comparisonSharesMetricsDiffersRecipesAndDrawsSharedCurves() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("winnow.sqlite")
        let (a, b, c) = try makeRuns(dir, db: db)
        let store = try ResultStore(path: db, mode: .existing)
        let comparison = try RunComparison(store: store, runs: [a, b, c], registry: testRegistry)
        #expect(comparison.columns.map(\.run.id) == [a, b, c])
        #expect(comparison.columns.map(\.run.application) == ["echo-stats", "echo-stats", "echo-stats"])
        #expect(comparison.metrics.map(\.name) == ["count", "reduced", "seed"], "shared by all three, by name")
        let reduced = try #require(comparison.metrics.first { $0.name == "reduced" })
        #expect(reduced.values == [2.5, 6, 2] && reduced.differences == [0, 3.5, -0.5] && !reduced.isAccuracy)
        let differences = Dictionary(uniqueKeysWithValues: comparison.recipeDifferences.map { ($0.key, $0.values) })
        #expect(differences["values"] == ["[1, 2, 3, 4]", "[2, 4]", "[1, 2]"])
        #expect(differences["reduction"] == ["mean", "sum", nil], "the hand-made recipe lacks the key")
        #expect(differences["training.steps"] == ["3", "2", nil])
        #expect(differences["application"] == nil, "equal everywhere")
        #expect(comparison.curveMetrics == ["reduced"])
        #expect(comparison.curves[1]["reduced"]?.map(\.y) == [6, 12])

        // Headline metrics come first; accuracies are flagged (differences in points).
        let pair = try RunComparison(store: store, runs: [c, a], registry: testRegistry)
        #expect(pair.metrics.map(\.name) == ["count", "reduced", "seed"], "test_accuracy is not shared")
        let d = try store.beginRun(RunDescriptor(application: "echo-stats", recipe: "application: echo-stats\n", seed: 0))
        try d.complete(metrics: ["test_accuracy": 0.8, "count": 3])
        let accuracies = try RunComparison(store: store, runs: [d.runID, c], registry: testRegistry)
        #expect(accuracies.metrics.map(\.name) == ["test_accuracy", "count"])
        #expect(accuracies.metrics[0].isAccuracy && abs(accuracies.metrics[0].differences[1] - 0.025) < 1e-12)
        #expect(accuracies.curveMetrics.isEmpty, "run d recorded no curve")

        #expect(throws: StoreError.self) { try RunComparison(store: store, runs: [a], registry: testRegistry) }
        #expect(throws: StoreError.self) { try RunComparison(store: store, runs: [a, a], registry: testRegistry) }
        #expect {
            try RunComparison(store: store, runs: [a, 99], registry: testRegistry)
        } throws: { error in
            error.localizedDescription.contains("no run with id 99")
        }
    }

    @Test func stepsAndSecondsPerPhaseAreNotDrawnAsCurves() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.path("winnow.sqlite"), mode: .create)
        var ids: [Int64] = []
        for _ in 0..<2 {
            let run = try store.beginRun(RunDescriptor(application: "echo-stats", recipe: "application: echo-stats\n", seed: 0))
            for step in 1...2 {
                try run.recordMetrics(
                    ["reduced": Double(step), EpochBookkeeping.baseSteps: 10, "phase_seconds.base_forward": 0.5], step: step)
            }
            try run.complete(metrics: ["reduced": 2])
            ids.append(run.runID)
        }
        #expect(EpochBookkeeping.contains("phase_seconds.adaptation") && !EpochBookkeeping.contains("train_loss"))
        let comparison = try RunComparison(store: store, runs: ids, registry: testRegistry)
        #expect(comparison.curveMetrics == ["reduced"])
    }

    @Test func theRunPageShowsSecondsPerPhaseAsATableNotAsCurves() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("winnow.sqlite")
        let store = try ResultStore(path: db, mode: .create)
        let run = try store.beginRun(RunDescriptor(application: "echo-stats", recipe: "application: echo-stats\n", seed: 0))
        for step in 1...2 {
            try run.recordMetrics(
                [
                    "train_loss": 1 / Double(step), EpochBookkeeping.baseSteps: 15, EpochBookkeeping.metaSteps: Double(6 + step),
                    "phase_seconds.base_forward": 0.25 * Double(step), "phase_seconds.adaptation": 0.125,
                ], step: step)
        }
        try run.complete(metrics: ["train_loss": 0.5])
        let report = try WinnowBinary.run(["report", "--run", "\(run.runID)", "--output", "r.html", "--db", db], in: dir.url)
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: dir.path("r.html"), encoding: .utf8)
        #expect(page.contains("<h2>Time by phase (seconds per epoch)</h2>"))
        #expect(page.contains("<th>base forward</th><th>adaptation</th>"), "phases in the engine's order, only those recorded")
        #expect(page.contains("<tr><td>2</td><td>15</td><td>8</td><td>0.5</td><td>0.125</td></tr>"), "\(page)")
        let drawsTheLoss = page.contains("train_loss</text>"), drawsAPhase = page.contains("phase_seconds.base_forward</text>")
        #expect(drawsTheLoss && !drawsAPhase, "a curve of the loss, none of a phase")
    }

    @Test func recipesFlattenToDottedKeys() throws {
        let recipe = try Recipe(yaml: "a: 1\nb:\n  c: [x, y]\n  d: ~\nitems:\n  - name: p\n  - name: q\n", source: "t")
        let flat = RunFacts.flatten(recipe.root)
        #expect(flat.map(\.key) == ["a", "b.c", "b.d", "items[0].name", "items[1].name"])
        #expect(flat.map(\.value) == ["1", "[x, y]", "null", "p", "q"])
    }

    @Test func compareThroughTheExecutable() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("winnow.sqlite")
        let (a, b, c) = try makeRuns(dir, db: db)
        let result = try WinnowBinary.run(["report", "--compare", "\(a)", "\(b)", "\(c)", "--db", db], in: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let path = dir.path("compare-\(a)-\(b)-\(c).html")
        #expect(result.stdout == "wrote \(path)\n")
        let page = try String(contentsOfFile: path, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<h1>Runs \(a), \(b), \(c) compared</h1>"))
        #expect(page.contains("<h2>Final metrics</h2>") && page.contains("<td>+3.5</td>"), "difference to the first run")
        let stepsRow = "<tr><th>training.steps</th><td>3</td><td>2</td><td>—</td></tr>"
        #expect(page.contains("<h2>Recipe differences</h2>") && page.contains(stepsRow))
        #expect(page.contains("<h2>Metrics by step</h2>") && page.contains("<svg") && page.contains(">run \(b)<"))
        #expect(!page.contains("<script") && !page.contains("https://"), "no script, no network")

        let d = try ResultStore(path: db, mode: .existing).beginRun(
            RunDescriptor(application: "echo-stats", recipe: "application: echo-stats\n", seed: 0))
        try d.complete(metrics: ["test_accuracy": 0.8])
        let points = try WinnowBinary.run(["report", "--compare", "\(d.runID)", "\(c)", "--output", "acc.html", "--db", db], in: dir.url)
        #expect(points.status == 0, "\(points.stderr)")
        #expect(try String(contentsOfFile: dir.path("acc.html"), encoding: .utf8).contains("+0.025 (+2.50 points)"))

        let refusals: [([String], String)] = [
            (["--compare", "\(a)"], "at least 2 run ids"),
            (["--compare", "\(a)", "\(a)"], "twice"),
            (["--compare", "0", "\(a)"], "--compare must be a run id"),
            (["--compare", "\(a)", "99"], "no run with id 99"),
            (["--compare", "\(a)", "\(b)", "--run", "\(a)"], "exclude each other"),
            ([], "give --run N, or --compare"),
            (["--compare", "\(a)", "\(b)", "\(c)"], "--force"),
            (["--compare", "\(a)", "\(b)", "--output", db, "--force"], "is the database"),
            (["--compare", "\(a)", "\(b)", "--output", db + "-wal", "--force"], "is the database"),
        ]
        for (arguments, message) in refusals {
            let refused = try WinnowBinary.run(["report"] + arguments + ["--db", db], in: dir.url)
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
        let forced = try WinnowBinary.run(["report", "--compare", "\(a)", "\(b)", "\(c)", "--force", "--db", db], in: dir.url)
        #expect(forced.status == 0, "\(forced.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(".") || $0.contains("tmp") }
        #expect(left.isEmpty, "no temporary file left: \(left)")
    }

    @Test func everyRunRecordsItsEnvironmentAndReportsShowIt() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("winnow.sqlite")
        let recipe = try dir.write("e.yaml", "application: echo-stats\n")
        let outcome = try ApplicationRunner.run(RunRequest(recipePath: recipe, databasePath: db), registry: testRegistry)
        let store = try ResultStore(path: db, mode: .existing)
        let environment = try #require(try store.run(outcome.runID).environment)
        #expect(environment.winnowVersion == WinnowRelease.version && environment.ranks == 1)
        #expect(environment.blas.contains("OpenBLAS") && environment.blasThreads >= 1)
        #expect(environment.cpuCores >= 1 && !environment.host.isEmpty && environment.os.contains("Linux"))
        let old = try store.beginRun(RunDescriptor(application: "echo-stats", recipe: "application: echo-stats\n", seed: 0))
        try old.complete(metrics: [:])

        let show = try WinnowBinary.run(["show", "--run", "\(outcome.runID)", "--db", db], in: dir.url)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("environment:\n  winnow: \(WinnowRelease.version)\n  code revision: "), "\(show.stdout)")
        #expect(show.stdout.contains("  MPI ranks: 1\n") && show.stdout.contains("  host: \(environment.host)\n"))
        let showOld = try WinnowBinary.run(["show", "--run", "\(old.runID)", "--db", db], in: dir.url)
        #expect(showOld.stdout.contains("  environment: not recorded"), "\(showOld.stdout)")

        let report = try WinnowBinary.run(["report", "--run", "\(outcome.runID)", "--output", "r.html", "--db", db], in: dir.url)
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: dir.path("r.html"), encoding: .utf8)
        #expect(page.contains("<h2>Environment</h2>") && page.contains("<tr><th>CPU</th><td>"))
        #expect(page.contains("<tr><th>MPI ranks</th><td>1</td></tr>"))
        _ = try WinnowBinary.run(["report", "--run", "\(old.runID)", "--output", "old.html", "--db", db], in: dir.url)
        #expect(try String(contentsOfFile: dir.path("old.html"), encoding: .utf8).contains("not recorded"))
    }

    @Test func cpuInfoIsParsedWithFallbacks() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write(
            "cpuinfo", "processor\t: 0\nmodel name\t: Test CPU @ 1GHz\n\nprocessor\t: 1\nmodel name\t: Test CPU @ 1GHz\n")
        let environment = RunEnvironment.current(ranks: 2, cpuInfoPath: path)
        #expect(environment.cpuModel == "Test CPU @ 1GHz" && environment.cpuCores == 2 && environment.ranks == 2)
        let missing = RunEnvironment.current(ranks: 1, cpuInfoPath: dir.path("none"))
        #expect(missing.cpuModel == "unknown" && missing.cpuCores == ProcessInfo.processInfo.activeProcessorCount)
    }
}
