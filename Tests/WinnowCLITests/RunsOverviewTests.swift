import Foundation
import ResultStore
import Runtime
import Testing

/// `winnow runs` columns, `winnow show --run N` and `winnow runs --delete N`.
@Suite struct RunsOverviewTests {
    @Test func runsShowsAndDeletes() throws {
        let dir = try TemporaryDirectory()
        let recipe = try dir.write("echo.yaml", "application: echo-stats\nvalues: [5, 1, 4, 2, 3]\n")
        let db = dir.path("winnow.sqlite")
        let first = try ApplicationRunner.run(RunRequest(recipePath: recipe, databasePath: db), registry: testRegistry)
        let second = try ApplicationRunner.run(RunRequest(recipePath: recipe, databasePath: db), registry: testRegistry)

        let runs = try WinnowBinary.run(["runs", "--format", "csv", "--db", db], in: dir.url)
        #expect(runs.status == 0, "\(runs.stderr)")
        let header = runs.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header == "id,application,method,dataset,status,started_at,duration_s,headline,code_revision,metrics,error")

        let show = try WinnowBinary.run(["show", "--run", "\(first.runID)", "--db", db], in: dir.url)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.hasPrefix("run \(first.runID): echo-stats, completed\n"), "\(show.stdout)")
        #expect(show.stdout.contains("recipe as run:\n  application: echo-stats\n"), "\(show.stdout)")
        #expect(show.stdout.contains("final metrics:\n  count: 5\n"), "\(show.stdout)")
        #expect(show.stdout.contains("metrics by step:"), "\(show.stdout)")

        let report = try WinnowBinary.run(["report", "--run", "\(first.runID)", "--output", "r.html", "--db", db], in: dir.url)
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: dir.path("r.html"), encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<h1>Run \(first.runID): echo-stats — completed</h1>"))
        #expect(page.contains("<h2>Metrics by step</h2>") && page.contains("<svg"), "curves are drawn")
        #expect(page.contains("<h2>Weights</h2>") && page.contains("application: echo-stats"))
        #expect(!page.contains("<script"), "no script")
        let existing = try WinnowBinary.run(["report", "--run", "\(first.runID)", "--output", "r.html", "--db", db], in: dir.url)
        #expect(existing.status != 0 && existing.stderr.contains("--force"), "\(existing.stderr)")
        let onDatabase = try WinnowBinary.run(
            ["report", "--run", "\(first.runID)", "--output", db, "--force", "--db", db], in: dir.url)
        #expect(onDatabase.status != 0 && onDatabase.stderr.contains("is the database"), "\(onDatabase.stderr)")

        let delete = try WinnowBinary.run(["runs", "--delete", "\(first.runID)", "--db", db], in: dir.url)
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(delete.stdout.hasPrefix("deleted run \(first.runID) from "), "\(delete.stdout)")
        let store = try ResultStore(path: db, mode: .existing)
        #expect(try store.runs().map(\.id) == [second.runID])
        #expect(try store.count(table: "metrics") > 0, "the other run keeps its rows")
        let gone = try WinnowBinary.run(["show", "--run", "\(first.runID)", "--db", db], in: dir.url)
        #expect(gone.status == 1 && gone.stderr.contains("no run with id \(first.runID)"), "\(gone.stderr)")
        let again = try WinnowBinary.run(["runs", "--delete", "\(first.runID)", "--db", db], in: dir.url)
        #expect(again.status == 1)
    }

    @Test func aRunWhoseProcessHoldsItsLockIsNotDeleted() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("winnow.sqlite")
        let store = try ResultStore(path: db)
        let recorder = try store.beginRun(
            RunDescriptor(application: "echo-stats", recipe: "application: echo-stats\n", recipePath: nil, codeRevision: "x", seed: 0))
        let lock = try RunOwnerLock.acquire(store: store, run: recorder.runID)
        #expect(throws: StoreError.self) { _ = try store.deleteRun(recorder.runID) }
        withExtendedLifetime(lock) {}
    }
}
