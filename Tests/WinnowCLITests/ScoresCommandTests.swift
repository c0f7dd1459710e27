import Foundation
import Testing
import ResultStore

/// `winnow scores` and `winnow export manifest --by <score name>`, through the built binary.
@Suite struct ScoresCommandTests {
    /// A database with one completed run holding two named scores and weights.
    func populated() throws -> (TemporaryDirectory, String, Int64) {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("Outputs"), withIntermediateDirectories: true)
        let db = dir.path("Outputs/winnow.sqlite")
        let store = try ResultStore(path: db)
        let recorder = try store.beginRun(RunDescriptor(application: "pruning-test", recipe: "application: pruning-test\n", seed: 1))
        try recorder.recordScores([0.5, 0.9, 0.1, 0.7, 0.3] as [Double], name: "el2n", step: 0)
        try recorder.recordScores([1, 2, 3, 4, 5] as [Double], name: "forgetting", step: 0)
        try recorder.recordScores([5, 4, 3, 2, 1] as [Double], name: "forgetting", step: 9)
        try recorder.complete(metrics: [:])
        return (dir, db, recorder.runID)
    }

    @Test func listsNamesAndShowsValues() throws {
        let (dir, db, run) = try populated()
        let list = try WinnowBinary.run(["scores", "--run", "\(run)", "--db", db, "--format", "csv"], in: dir.url)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "name,steps,latest_step,samples,min,max\nel2n,1,0,5,0.1,0.9\nforgetting,2,9,5,1.0,5.0\n")
        let top = try WinnowBinary.run(
            [
                "scores", "--run", "\(run)", "--name", "forgetting", "--top", "2", "--format", "csv",
                "--db", db,
            ], in: dir.url)
        #expect(top.status == 0, "\(top.stderr)")
        #expect(top.stdout == "sample_id,sample,score\n0,0,5.0\n1,1,4.0\n")  // the latest step, 9
        let bottom = try WinnowBinary.run(
            [
                "scores", "--run", "\(run)", "--name", "el2n", "--bottom", "1", "--format", "csv",
                "--db", db,
            ], in: dir.url)
        #expect(bottom.stdout == "sample_id,sample,score\n2,2,0.1\n")
        let histogram = try WinnowBinary.run(
            [
                "scores", "--run", "\(run)", "--name", "el2n", "--histogram", "--bins", "4",
                "--format", "csv", "--db", db,
            ], in: dir.url)
        #expect(histogram.status == 0, "\(histogram.stderr)")
        #expect(histogram.stdout.split(separator: "\n").count == 5)
        let unknown = try WinnowBinary.run(["scores", "--run", "\(run)", "--name", "aum", "--db", db], in: dir.url)
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: run \(run) in \(db) has no pruning score named 'aum' (its scores are el2n, forgetting)\n")
    }

    @Test func manifestByScoreName() throws {
        let (dir, db, run) = try populated()
        let pruned = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(run)", "--by", "el2n", "--prune", "0.4",
                "--output", "kept.csv", "--db", db,
            ], in: dir.url)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(try String(contentsOfFile: dir.path("kept.csv"), encoding: .utf8) == "sample_id,el2n\n0,0.5\n1,0.9\n3,0.7\n")
        let unknown = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(run)", "--by", "grand", "--prune", "0.3",
                "--output", "x.jsonl", "--db", db,
            ], in: dir.url)
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: run \(run) in \(db) has no pruning score named 'grand' (its scores are el2n, forgetting)\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path("x.jsonl")))
        // Without --by, a run with several scores is a usage error naming them.
        let ambiguous = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "\(run)", "--prune", "0.3", "--output", "x.jsonl",
                "--db", db,
            ], in: dir.url)
        #expect(ambiguous.status == 2)
        #expect(ambiguous.stderr.contains("several pruning scores (el2n, forgetting)"))
        for ratio in ["0", "1", "1.5", "-0.1", "nan"] {
            let bad = try WinnowBinary.run(
                [
                    "export", "manifest", "--run", "\(run)", "--by", "el2n", "--prune=\(ratio)",
                    "--output", "x.jsonl", "--db", db,
                ], in: dir.url)
            #expect(bad.status == 2, "--prune \(ratio)")
            #expect(bad.stderr.contains("--prune must be strictly between 0 and 1"), "--prune \(ratio): \(bad.stderr)")
        }
    }
}
