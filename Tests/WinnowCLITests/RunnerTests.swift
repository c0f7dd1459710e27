import Foundation
import Testing
@testable import Recipes
@testable import Runtime
import ResultStore

/// `winnow run` end to end in-process: dispatch by `application:`, `--set`, recording and failure marking.
@Suite struct RunnerTests {
    @Test func runsRecordsAndCompletes() throws {
        let dir = try TemporaryDirectory()
        let recipe = try dir.write("echo.yaml", "application: echo-stats\nseed: 9\nvalues: [1, 2, 3, 6]\n")
        let db = dir.path("out/results.sqlite")
        let outcome = try ApplicationRunner.run(
            RunRequest(recipePath: recipe, overrides: ["training.steps=2", "label=hello"], databasePath: db),
            registry: testRegistry)
        #expect(outcome.application == "echo-stats")
        #expect(outcome.summary.metrics == ["reduced": 3, "count": 4, "seed": 9])

        let store = try ResultStore(path: db, mode: .existing)
        let run = try store.run(outcome.runID)
        #expect(run.status == .completed)
        #expect(run.application == "echo-stats")
        #expect(run.seed == 9)
        #expect(run.recipePath == recipe)
        #expect(run.notes == ["label=hello"])
        #expect(!run.codeRevision.isEmpty)
        // The recorded recipe is the effective one: overrides and defaults included, decodable again.
        let recorded = try Recipe(yaml: run.recipe, source: "recorded").decode(EchoStats.Config.self)
        #expect(recorded.training.steps == 2 && recorded.label == "hello" && recorded.values == [1, 2, 3, 6])

        #expect(try store.weightSteps(run: outcome.runID) == [1, 2])
        #expect(try store.topWeights(run: outcome.runID, count: 1).first == SampleWeight(step: 2, sampleID: 3, weight: 12))
        #expect(try store.metrics(run: outcome.runID, name: "reduced").map(\.value) == [3, 6])
        // mean 3: corrected [0, 0, 0, 1] against weak [0, 1, 0, 1]
        #expect(try store.labels(run: outcome.runID, changedOnly: true).map(\.sampleID) == [1])
        #expect(try store.scores(run: outcome.runID).first?.sampleID == 3)
        #expect(
            RunReport.json(outcome) == "{\"run_id\": \(outcome.runID), \"application\": \"echo-stats\", \"status\": \"completed\", "
                + "\"metrics\": {\"count\": 4, \"reduced\": 3, \"seed\": 9}, \"notes\": [\"label=hello\"], \"database\": \"\(db)\"}")
    }

    @Test func failureMarksRunFailed() throws {
        let dir = try TemporaryDirectory()
        let recipe = try dir.write("echo.yaml", "application: echo-stats\ntraining: {steps: 4}\n")
        let db = dir.path("results.sqlite")
        let failure = try #require(throws: ApplicationFailure.self) {
            try ApplicationRunner.run(
                RunRequest(recipePath: recipe, overrides: ["fail_at_step=2"], databasePath: db), registry: testRegistry)
        }
        #expect(failure.localizedDescription.contains("echo-stats was told to fail at step 2"))
        let store = try ResultStore(path: db, mode: .existing)
        let run = try store.run(failure.runID)
        #expect(run.status == .failed)
        #expect(run.error == "echo-stats was told to fail at step 2")
        #expect(run.metrics.isEmpty)
        // What was written before the failure stays, flagged by the run's status.
        #expect(try store.weightSteps(run: failure.runID) == [1, 2])
        #expect(RunReport.json(failure: failure).contains("\"status\": \"failed\""))
    }

    @Test func recipeErrorsStopBeforeAnythingIsRecorded() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("results.sqlite")
        let typo = try dir.write("typo.yaml", "application: echo-stats\ntrainin:\n  steps: 2\n")
        let error = try #require(throws: RecipeError.self) {
            try ApplicationRunner.run(RunRequest(recipePath: typo, databasePath: db), registry: testRegistry)
        }
        #expect(error.localizedDescription == "\(typo):2: unknown key 'trainin' (did you mean 'training'?)")
        let wrongApp = try dir.write("app.yaml", "application: echo-stat\n")
        #expect(throws: RecipeError.self) {
            try ApplicationRunner.run(RunRequest(recipePath: wrongApp, databasePath: db), registry: testRegistry)
        }
        let ok = try dir.write("ok.yaml", "application: echo-stats\n")
        #expect(throws: RecipeError.self) {
            try ApplicationRunner.run(
                RunRequest(recipePath: ok, overrides: ["training.steps=zero"], databasePath: db), registry: testRegistry)
        }
        #expect(throws: RecipeError.self) {
            try ApplicationRunner.run(RunRequest(recipePath: dir.path("missing.yaml"), databasePath: db), registry: testRegistry)
        }
        // Nothing was recorded: the database was never even created.
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func progressStyles() {
        var lines: [String] = []
        var clock = 0.0
        let reporter = ProgressReporter(style: .lines, write: { lines.append($0) }, now: { clock })
        reporter.start("train", total: 4)
        for step in 1...4 {
            clock += 10
            reporter.update(completed: step, metrics: ["loss": 1 / Double(step)])
        }
        reporter.finish()
        #expect(lines.count == 4)
        #expect(lines[0] == "train  1/4 25%  ETA 0:30  loss 1\n")
        #expect(lines[3] == "train  4/4 100%  in 0:40  loss 0.25\n")

        var silent: [String] = []
        let quiet = ProgressReporter(style: .silent, write: { silent.append($0) })
        quiet.start("x", total: 2)
        quiet.update(completed: 2)
        quiet.log("hello")
        quiet.finish()
        #expect(silent.isEmpty)

        var drawn: [String] = []
        let bar = ProgressReporter(style: .bar, write: { drawn.append($0) }, now: { clock })
        bar.start("train", total: 2)
        clock += 1
        bar.update(completed: 1)
        #expect(drawn.last?.hasPrefix("\r\u{1B}[2Ktrain  [############------------]  1/2 50%  ETA 0:01") == true)
    }
}
