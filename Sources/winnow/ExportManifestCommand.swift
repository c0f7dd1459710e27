import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import ArgumentParser
import Foundation
import ResultStore

struct ExportManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Write the sample ids to keep, ranked by pruning score or importance weight.",
        discussion: """
            Samples are ranked highest first (ties: lower sample id first); --keep 0.7 keeps the top 70%, \
            --prune 0.3 drops the bottom 30%. The manifest lists kept ids in id order with their value, and is \
            written to a temporary file then renamed, so readers never see half a manifest. With --archive, \
            the kept samples are also written as a new dataset archive in the format of the run's dataset \
            (the recipe's dataset.archive), matched by the sample keys the run registered.
            """)

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Option(help: "Fraction of samples to keep (0–1).") var keep: Double?
    @Option(help: "Fraction of samples to drop (0–1).") var prune: Double?
    @Option(help: "Rank by pruning `score` or latest importance `weight`.") var by: ManifestRequest.Ranking = .score
    @Option(help: "The manifest file to write.") var output: String
    @Option(help: "jsonl or csv (default: from the output's extension, else jsonl).") var format: ManifestRequest.Format?
    @Option(help: ArgumentHelp("Also write the kept samples as a dataset archive (.tar.gz, .tar, .tar.xz, .tar.zst or .zip).", valueName: "out.tar.gz"))
    var archive: String?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (keep == nil) != (prune == nil) else { throw ValidationError("give exactly one of --keep and --prune") }
        let fraction = keep ?? prune!
        guard fraction.isFinite, fraction > 0, fraction <= 1 else {
            throw ValidationError("--\(keep != nil ? "keep" : "prune") must be in (0, 1], got \(fraction)")
        }
    }

    var manifestFormat: ManifestRequest.Format {
        format ?? (output.lowercased().hasSuffix(".csv") ? .csv : .jsonl)
    }

    func run() throws {
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        let request = ManifestRequest(runID: runID, selection: keep.map { .keep($0) } ?? .prune(prune!), ranking: by)
        let entries = try db.manifest(request)
        // Everything about the archive is checked before either file is written; the archive goes first
        // (it can fail on data), and is removed again if the manifest then cannot be written.
        if let archive, ManifestArchive.sameFile(archive, output) {
            throw ValidationError("--archive and --output name the same file \(output)")
        }
        let plan = try archive.map { try ManifestArchive.prepare(store: db, runID: runID, entries: entries, output: $0) }
        if let plan, ManifestArchive.sameFile(plan.dataset.sourcePath, output) {
            throw ManifestArchiveError.wouldOverwriteSource(option: "--output", output: output, source: plan.dataset.sourcePath)
        }
        let summary = try plan.map(ManifestArchive.write)
        do {
            try ManifestWriter.write(entries, ranking: by, format: manifestFormat, to: output)
        } catch {
            if let archive { try? FileManager.default.removeItem(atPath: archive) }
            throw error
        }
        if store.json {
            var text = "{\"run_id\": \(runID), \"kept\": \(entries.count), \"by\": \"\(by.rawValue)\", \"output\": \(jsonString(output))"
            if let archive { text += ", \"archive\": \(jsonString(archive))" }
            printOut(text + "}\n")
        } else {
            printOut("wrote \(entries.count) sample ids (ranked by \(by.rawValue)) to \(output)\n")
            if let archive, let summary, let plan {
                let counts = summary.prunedSplits.map { "\($0) \(summary.kept[$0] ?? 0) of \(summary.total[$0] ?? 0)" }
                printOut("wrote \(archive) (\(plan.dataset.format.rawValue), kept \(counts.joined(separator: ", ")))\n")
            }
        }
    }
}

func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
