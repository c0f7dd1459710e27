import Foundation
import ResultStore
import Testing
import WinnowTestSupport

/// The continued-pretraining recipe `tiny-sama.yaml` through the executable: `winnow weights` shows the corpus
/// documents with their text and the vocabulary tokens with their mean weight, `winnow export manifest --by weight`
/// writes the better half of the corpus as a manifest and an archive the next run reads as its corpus.
@Suite(.needsMiniLM) struct ContinuedPretrainingCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let recipe = "Recipes/continued-pretraining/tiny-sama.yaml"

    static func winnow(_ arguments: [String], environment: [String: String] = [:]) throws -> WinnowBinary.Result {
        try WinnowBinary.run(arguments, in: root, environment: environment)
    }

    /// The data rows of a rendered table (after the header and its rule).
    static func rows(_ table: String) -> [String] { Array(table.split(separator: "\n").dropFirst(2).map(String.init)) }

    @Test func tinyRecipeShowsTextsAndTokensAndExportsTheKeptCorpus() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("runs.sqlite")
        let run = try Self.winnow(["run", Self.recipe, "--db", db])
        #expect(run.status == 0, "\(run.stderr)")
        let seen = Double(try ResultStore(path: db, mode: .existing).weights(run: 1).count)
        #expect(seen > 50)

        let top = try Self.winnow(["weights", "--run", "1", "--top", "3", "--db", db])
        #expect(top.status == 0, "\(top.stderr)")
        #expect(top.stdout.hasPrefix("step  sample_id  sample") && top.stdout.split(separator: "\n")[0].hasSuffix("text"))
        let rows = Self.rows(top.stdout)
        #expect(rows.count == 3 && rows.allSatisfy { $0.contains("rtplot-") && $0.count > 60 }, "\(top.stdout)")
        // From a folder where the recipe's relative corpus path does not resolve: the weights, no texts, a warning.
        let elsewhere = try WinnowBinary.run(["weights", "--run", "1", "--top", "3", "--db", db], in: dir.url)
        #expect(elsewhere.status == 0 && !elsewhere.stdout.split(separator: "\n")[0].hasSuffix("text"))
        #expect(elsewhere.stderr.contains("warning: texts not shown") && elsewhere.stderr.contains("rt-movie-corpus.tar.gz"))
        let json = try Self.winnow(["weights", "--run", "1", "--bottom", "2", "--format", "json", "--db", db])
        #expect(json.status == 0 && json.stdout.components(separatedBy: "\"text\": \"").count == 3, "\(json.stdout)")

        let tokens = try Self.winnow(["weights", "--run", "1", "--tokens", "--bottom", "5", "--min-count", "3", "--db", db])
        #expect(tokens.status == 0, "\(tokens.stderr)")
        #expect(tokens.stdout.split(separator: "\n")[0].split(separator: " ") == ["step", "token_id", "token", "count", "weight"])
        #expect(Self.rows(tokens.stdout).count == 5)
        let counts = Self.rows(tokens.stdout).compactMap { $0.split(separator: " ").dropFirst(3).first.flatMap { Int($0) } }
        #expect(counts.count == 5 && counts.allSatisfy { $0 >= 3 }, "\(tokens.stdout)")
        let refused = try Self.winnow(["weights", "--run", "1", "--tokens", "--histogram", "--db", db])
        #expect(refused.status == 2 && refused.stderr.contains("--tokens"))

        let manifest = dir.path("kept.jsonl"), archive = dir.path("kept.tar.gz")
        let export = try Self.winnow([
            "export", "manifest", "--run", "1", "--by", "weight", "--keep", "0.5", "--output", manifest, "--archive", archive, "--db", db,
        ])
        #expect(export.status == 0, "\(export.stderr)")
        let kept = Int((seen / 2).rounded())
        #expect(export.stdout.contains("wrote \(kept) sample ids (ranked by weight)"), "\(export.stdout)")
        #expect(export.stdout.contains("kept plots \(kept) of 1097"), "\(export.stdout)")
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == kept && lines.allSatisfy { $0.contains("\"sample\": \"rtplot-") })

        // Neither the corpus nor the task archive may be overwritten, --force or not.
        for protected in ["Datasets/rt-movie-corpus.tar.gz", "Datasets/rt-sentiment-weak.tar.gz"] {
            for files in [["--output", protected], ["--output", dir.path("other.jsonl"), "--archive", protected]] {
                let refused = try Self.winnow(
                    ["export", "manifest", "--run", "1", "--by", "weight", "--keep", "0.5", "--force", "--db", db] + files)
                #expect(refused.status != 0 && refused.stderr.contains("refusing to overwrite the run's source dataset"), "\(files)")
            }
        }

        let inspect = try Self.winnow(["datasets", "inspect", archive])
        #expect(inspect.stdout.contains("plots: \(kept) records"), "\(inspect.stdout)")
        let again = try Self.winnow([
            "run", Self.recipe, "--set", "dataset.corpus=\(archive)", "--set", "method=tartan-mt", "--db", db,
        ])
        #expect(again.status == 0, "\(again.stderr)")
        #expect((again.stdout + again.stderr).contains("\(kept) corpus documents"))
    }

    /// The model files: a model folder that is not there, and one without its weights.
    @Test func missingModelFilesAreErrorsNamingThem() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("runs.sqlite")
        let missing = "/nonexistent/winnow-minilm-\(UUID())"
        let none = try Self.winnow(["run", Self.recipe, "--db", db], environment: ["WINNOW_MINILM_DIR": missing])
        #expect(none.status == 1 && none.stderr.contains(missing) && none.stderr.contains("install-minilm.sh"), "\(none.stderr)")

        // The vocabulary and the configuration, but no model.safetensors: the tiny encoder needs only the vocabulary.
        let installed = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["WINNOW_MINILM_DIR"] ?? "/usr/local/share/winnow/all-MiniLM-L6-v2")
        let partial = dir.path("minilm")
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        for file in ["vocab.txt", "config.json"] {
            try FileManager.default.copyItem(atPath: installed.appendingPathComponent(file).path, toPath: "\(partial)/\(file)")
        }
        let weights = try Self.winnow(
            ["run", Self.recipe, "--set", "model.encoder=minilm", "--db", db], environment: ["WINNOW_MINILM_DIR": partial])
        #expect(weights.status == 1 && weights.stderr.contains("\(partial)/model.safetensors"), "\(weights.stderr)")
    }
}
