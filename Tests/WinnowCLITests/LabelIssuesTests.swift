import DataIO
import Foundation
import Testing

/// `winnow labels --run N --issues` on a real noisy-label run of a small WRENCH archive.
@Suite struct LabelIssuesTests {
    /// 120 training texts: "good …" are positive and "bad …" negative; one labeling function votes the opposite
    /// class for every tenth text (a wrong weak label), the other abstains. With `abstainEvery`, both abstain on the
    /// training texts `i % abstainEvery == 7`.
    func writeArchive(_ dir: TemporaryDirectory, abstainEvery: Int? = nil) throws -> String {
        func split(_ name: String, count: Int, noisy: Bool) -> String {
            let entries = (0..<count).map { i -> String in
                let gold = i % 2
                let weak = noisy && i % 10 == 3 ? 1 - gold : gold
                let abstains = noisy && abstainEvery.map { i % $0 == 7 } == true
                let text = "\(gold == 1 ? "good" : "bad") movie number \(i)"
                return "\"\(name)-\(i)\": {\"label\": \(gold), \"weak_labels\": [\(abstains ? -1 : weak), -1], "
                    + "\"data\": {\"text\": \"\(text)\"}}"
            }
            return "{" + entries.joined(separator: ", ") + "}"
        }
        let path = dir.path("toy.tar.gz")
        try ArchiveWriter.write(
            to: path,
            entries: [
                (path: "toy/label.json", bytes: Array(#"{"0": "rotten", "1": "fresh"}"#.utf8)),
                (path: "toy/train.json", bytes: Array(split("train", count: 120, noisy: true).utf8)),
                (path: "toy/valid.json", bytes: Array(split("valid", count: 40, noisy: false).utf8)),
                (path: "toy/test.json", bytes: Array(split("test", count: 40, noisy: false).utf8)),
            ])
        return path
    }

    /// A directory holding the toy archive and run 1 in `r.sqlite`: a small finetune run with `settings` on top.
    func finetunedRun(_ settings: [String], abstainEvery: Int? = nil) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        let archive = try writeArchive(dir, abstainEvery: abstainEvery)
        let recipe = try dir.write("nl.yaml", "application: noisy-labels\nseed: 1\n")
        let base = [
            "dataset.archive=\(archive)", "model.buckets=256", "model.embedding_width=8", "model.hidden_width=8",
            "training.batch_size=8", "meta.method=finetune",
        ]
        let run = try WinnowBinary.run(["run", recipe] + (base + settings).flatMap { ["--set", $0] } + ["--db", "r.sqlite"], in: dir.url)
        #expect(run.status == 0, "\(run.stderr)")
        return dir
    }

    @Test func listsTheLikeliestWrongLabelsWithTextAndClassNames() throws {
        let dir = try finetunedRun(["training.epochs=4", "training.learning_rate=0.02"])
        let issues = try WinnowBinary.run(
            ["labels", "--run", "1", "--issues", "--top", "12", "--format", "csv", "--db", "r.sqlite"], in: dir.url)
        #expect(issues.status == 0, "\(issues.stderr)")
        let lines = issues.stdout.split(separator: "\n")
        #expect(lines.first == "sample_id,sample,issue_score,weak_label,gold_label,suggested_label,text")
        #expect(lines.count == 13)
        // The 12 wrong weak labels (every tenth text) lead the list: weak label ≠ gold label, by class name.
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let wrong = rows.filter { $0[3] != $0[4] }
        #expect(wrong.count >= 8, "chance would put 1.2 of them here: \(issues.stdout)")
        #expect(rows.allSatisfy { ["rotten", "fresh"].contains($0[3]) && $0[6].contains("movie number") })
        let scores = rows.compactMap { Double($0[2]) }
        #expect(scores == scores.sorted(by: >), "highest issue score first")

        // The run page splits weights and issue scores by weak-label correctness and lists the likeliest wrong labels.
        let report = try WinnowBinary.run(["report", "--run", "1", "--output", "r.html", "--db", "r.sqlite"], in: dir.url)
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: dir.path("r.html"), encoding: .utf8)
        for part in ["<h2>Label issues</h2>", "weak label wrong", "weak label right", "The 20 likeliest wrong labels", "movie number"] {
            #expect(page.contains(part), "the report lacks \(part)")
        }

        let refused = try WinnowBinary.run(["labels", "--run", "1", "--top", "3", "--db", "r.sqlite"], in: dir.url)
        #expect(refused.status != 0 && refused.stderr.contains("--top goes with --issues"))
    }
}

extension LabelIssuesTests {
    /// Samples on which every labeling function abstains have no weak label to be wrong: left out unless --ties.
    @Test func samplesWithoutADecisiveWeakLabelAreListedOnlyWithTies() throws {
        let dir = try finetunedRun(["training.epochs=2"], abstainEvery: 8)
        func rows(_ extra: [String]) throws -> [[String]] {
            let listing = try WinnowBinary.run(
                ["labels", "--run", "1", "--issues", "--top", "1000", "--format", "csv", "--db", "r.sqlite"] + extra, in: dir.url)
            #expect(listing.status == 0, "\(listing.stderr)")
            return listing.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        }
        let decisive = try rows([]), all = try rows(["--ties"])
        // 120 training texts, 15 of them (i % 8 == 7) without a vote.
        #expect(decisive.count == 105 && decisive.allSatisfy { $0[3] != "tie" })
        #expect(all.count == 120 && all.filter { $0[3] == "tie" }.count == 15)
        let refused = try WinnowBinary.run(["labels", "--run", "1", "--ties", "--db", "r.sqlite"], in: dir.url)
        #expect(refused.status != 0 && refused.stderr.contains("--ties goes with --issues"))
    }

    @Test func perClassExportKeepsEveryClass() throws {
        let dir = try finetunedRun(["training.epochs=2"])
        let export = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "1", "--by", "label_quality", "--keep", "0.5", "--per-class", "--output", "kept.csv",
                "--db", "r.sqlite",
            ], in: dir.url)
        #expect(export.status == 0, "\(export.stderr)")
        // 120 samples: 48 weakly labeled fresh (odd numbers but every tenth flipped), 72 rotten: half of each.
        let lines = try String(contentsOfFile: dir.path("kept.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 61)
        let ids = lines.dropFirst().compactMap { Int($0.split(separator: ",")[0]) }
        let weakPositive = Set((0..<120).filter { ($0 % 2 == 1) != ($0 % 10 == 3) })
        #expect(weakPositive.count == 48 && ids.filter(weakPositive.contains).count == 24)
    }
}
