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
            written to a temporary file then renamed, so readers never see half a manifest.
            """)

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Option(help: "Fraction of samples to keep (0–1).") var keep: Double?
    @Option(help: "Fraction of samples to drop (0–1).") var prune: Double?
    @Option(help: "Rank by pruning `score` or latest importance `weight`.") var by: ManifestRequest.Ranking = .score
    @Option(help: "The manifest file to write.") var output: String
    @Option(help: "jsonl or csv (default: from the output's extension, else jsonl).") var format: ManifestRequest.Format?
    @Option(help: ArgumentHelp("Also write the kept samples as a dataset archive (not available yet).", valueName: "out.tar.gz"))
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
        // ARCHIVE HOOK: the dataset archive writer (DataIO) is provided separately. When it lands, replace
        // this check with a call after the manifest is written, passing `entries.map(\.sampleID)`, the run's
        // dataset (from its recipe) and `archive`.
        if let archive {
            throw ArchiveNotAvailable(path: archive)
        }
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        let request = ManifestRequest(runID: runID, selection: keep.map { .keep($0) } ?? .prune(prune!), ranking: by)
        let entries = try db.manifest(request)
        try ManifestWriter.write(entries, ranking: by, format: manifestFormat, to: output)
        if store.json {
            printOut("{\"run_id\": \(runID), \"kept\": \(entries.count), \"by\": \"\(by.rawValue)\", \"output\": \(jsonString(output))}\n")
        } else {
            printOut("wrote \(entries.count) sample ids (ranked by \(by.rawValue)) to \(output)\n")
        }
    }
}

struct ArchiveNotAvailable: Error, LocalizedError {
    var path: String
    var errorDescription: String? {
        "--archive \(path): writing a filtered dataset archive is not available yet in this build; export the manifest without --archive"
    }
}

func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
