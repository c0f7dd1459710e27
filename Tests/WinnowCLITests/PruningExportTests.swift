import DataIO
import Foundation
import Testing

/// The data-pruning application through the executable: score an IDX dataset, export the kept 70% as a manifest
/// and as a new IDX archive, and read that archive back with `datasets inspect` and a recipe.
@Suite struct PruningExportTests {
    /// 60 training and 12 test images of 4×4 pixels in 2 classes (bright or dark), as IDX files.
    static func dataset(in dir: TemporaryDirectory) throws -> String {
        let folder = dir.path("images")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func write(_ prefix: String, count: Int) throws {
            let labels = (0..<count).map { UInt8($0 % 2) }
            var pixels: [UInt8] = []
            for i in 0..<count {
                let base = labels[i] == 1 ? 160 : 40
                for p in 0..<16 { pixels.append(UInt8(base + (i * 7 + p * 13) % 80)) }
            }
            try Data(IDXFormat.encode(IDXArray(dims: [count, 4, 4], data: pixels)))
                .write(to: URL(fileURLWithPath: "\(folder)/\(prefix)-images-idx3-ubyte"))
            try Data(IDXFormat.encode(IDXArray(dims: [count], data: labels)))
                .write(to: URL(fileURLWithPath: "\(folder)/\(prefix)-labels-idx1-ubyte"))
        }
        try write("train", count: 60)
        try write("t10k", count: 12)
        return folder
    }

    static func recipe(in dir: TemporaryDirectory, archive: String, stage: String) throws -> String {
        try dir.write(
            "\(stage).yaml",
            """
            application: data-pruning
            stage: \(stage)
            dataset:
              archive: \(archive)
            model:
              kind: mlp
              widths: [8]
            training:
              epochs: 2
              batch_size: 10
            meta:
              batch_size: 10
              last_epochs: 1
              hidden_width: 4
            baselines:
              scores: [el2n, random]
              early_epoch: 1
              early_seeds: [0]

            """)
    }

    @Test func exportsTheKeptSamplesAsAnIDXArchiveThatRecipesRead() throws {
        let dir = try TemporaryDirectory()
        let images = try Self.dataset(in: dir)
        let db = dir.path("results.sqlite")
        let score = try WinnowBinary.run(
            ["run", Self.recipe(in: dir, archive: images, stage: "score"), "--db", db], in: dir.url)
        #expect(score.status == 0, "\(score.stderr)")
        let export = try WinnowBinary.run(
            [
                "export", "manifest", "--run", "1", "--by", "sama", "--prune", "0.3", "--output", "kept.jsonl",
                "--archive", "kept.tar.gz", "--db", db,
            ], in: dir.url)
        #expect(export.status == 0, "\(export.stderr)")
        let manifest = try String(contentsOfFile: dir.path("kept.jsonl"), encoding: .utf8)
        #expect(manifest.split(separator: "\n").count == 42)
        let inspect = try WinnowBinary.run(["datasets", "inspect", "kept.tar.gz"], in: dir.url)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("idx"), "\(inspect.stdout)")
        let reread = try Dataset.load(path: dir.path("kept.tar.gz"))
        #expect(reread[split: "train"]?.count == 42 && reread[split: "test"]?.count == 12)
        // The pruned archive is a dataset every recipe reads: the baselines stage scores it.
        let baselines = try WinnowBinary.run(
            ["run", Self.recipe(in: dir, archive: dir.path("kept.tar.gz"), stage: "baselines"), "--db", db], in: dir.url)
        #expect(baselines.status == 0, "\(baselines.stderr)")
        let scores = try WinnowBinary.run(["scores", "--run", "2", "--db", db], in: dir.url)
        #expect(scores.stdout.contains("el2n") && scores.stdout.contains("random"), "\(scores.stdout)")
        // A score the run does not have, and a ratio outside (0, 1): errors, nothing written.
        let unknown = try WinnowBinary.run(
            ["export", "manifest", "--run", "1", "--by", "el2n", "--prune", "0.3", "--output", "x.jsonl", "--db", db], in: dir.url)
        #expect(unknown.status == 1 && unknown.stderr.contains("no pruning score named 'el2n'"), "\(unknown.stderr)")
        let ratio = try WinnowBinary.run(
            ["export", "manifest", "--run", "1", "--by", "sama", "--prune", "1", "--output", "x.jsonl", "--db", db], in: dir.url)
        #expect(ratio.status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.path("x.jsonl")))
    }

    @Test func aCorruptIDXFileIsAnErrorNamingIt() throws {
        let dir = try TemporaryDirectory()
        let images = try Self.dataset(in: dir)
        // Cut the training images short: the header promises 60 images.
        let file = URL(fileURLWithPath: "\(images)/train-images-idx3-ubyte")
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count - 100).write(to: file)
        let db = dir.path("results.sqlite")
        let run = try WinnowBinary.run(["run", Self.recipe(in: dir, archive: images, stage: "score"), "--db", db], in: dir.url)
        #expect(run.status == 1)
        #expect(run.stderr.contains("train-images-idx3-ubyte"), "\(run.stderr)")
        let scores = try WinnowBinary.run(["scores", "--run", "1", "--db", db], in: dir.url)
        #expect(scores.status != 0, "a failed run has no scores: \(scores.stdout)")
    }
}
