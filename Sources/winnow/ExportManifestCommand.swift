import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import ArgumentParser
import DataIO
import Foundation
import ResultStore

struct ExportManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Write the sample ids to keep, ranked by a pruning score or the importance weights.",
        discussion: """
            Samples are ranked highest first (ties: lower sample id first); --keep 0.7 keeps the top 70%, \
            --prune 0.3 drops the bottom 30%. --by names what ranks them: `weight` (the latest importance weights) \
            or any pruning score the run recorded (`winnow scores --run N` lists them; its latest step), stored so \
            that higher means more worth keeping; without --by, the run's only score. The manifest lists kept ids \
            in id order with their value. With \
            --archive, the kept samples are also written as a new dataset archive in the format of the run's \
            dataset (the recipe's dataset.archive, or the one the application names, e.g. dataset.corpus for the \
            corpus documents of continued pretraining), matched by the sample keys the run registered; the archive's \
            name picks its compression (\(ArchiveWriter.Kind.supportedExtensions.joined(separator: ", "))).

            Nothing is lost: every check runs before anything is written; no output may be the result database \
            (or its -wal/-shm files) or the run's source dataset, even with --force; an existing file is replaced \
            only with --force. Each file goes to a temporary file beside it and is renamed into place, so readers \
            never see half a file; a failed or interrupted export removes its temporary files, and the archive \
            too if this command created it.
            """)

    @Option(name: .customLong("run"), help: "The run id (see `winnow runs`).") var runID: Int64
    @Option(help: "Fraction of samples to keep (0–1].") var keep: Double?
    @Option(help: "Fraction of samples to drop, strictly between 0 and 1.") var prune: Double?
    @Option(
        help: ArgumentHelp(
            "Rank by `weight` or by a pruning score name (default: the run's only score).",
            valueName: "weight|score name"))
    var by: ManifestRequest.Ranking?
    @Option(help: "The manifest file to write.") var output: String
    @Option(help: "jsonl or csv (default: from the output's extension, else jsonl).") var format: ManifestRequest.Format?
    @Option(
        help: ArgumentHelp(
            "Also write the kept samples as a dataset archive (.tar.gz, .tar.bz2, .tar.xz, .tar.zst, .tar or .zip).",
            valueName: "out.tar.gz"))
    var archive: String?
    @Flag(help: "Keep the fraction within each class of the run's training labels (no class is dropped).")
    var perClass = false
    @Flag(help: "Replace --output and --archive files that exist (never the database or the run's dataset).")
    var force = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        try OptionBounds.checkRun(runID)
        guard (keep == nil) != (prune == nil) else { throw ValidationError("give exactly one of --keep and --prune") }
        if let keep, !(keep.isFinite && keep > 0 && keep <= 1) {
            throw ValidationError("--keep must be in (0, 1], got \(keep)")
        }
        if let prune, !(prune.isFinite && prune > 0 && prune < 1) {
            throw ValidationError("--prune must be strictly between 0 and 1, got \(prune)")
        }
        if let by, by != .weight { try ScoreName.validate(by.rawValue) }
        if output.isEmpty { throw ValidationError("--output: give a file name") }
        if let archive, ArchiveWriter.Kind.from(path: archive) == nil {
            throw ValidationError(
                "--archive \(archive): cannot write this archive format; name it with one of "
                    + ArchiveWriter.Kind.supportedExtensions.joined(separator: ", "))
        }
    }

    var manifestFormat: ManifestRequest.Format {
        format ?? (output.lowercased().hasSuffix(".csv") ? .csv : .jsonl)
    }

    func run() throws {
        let db = try store.openForQueries()
        try warnIfIncomplete(db, run: runID)
        // Everything is checked before either file is written. The run's dataset is protected even without
        // --archive (a recipe that names none has nothing to protect; --archive then reports it).
        let sources = (try? db.run(runID)).map { ManifestArchive.sourceArchives(of: $0, store: db, registry: .builtIn) } ?? []
        if let archive, ManifestArchive.sameFile(archive, output) {
            throw ValidationError("--archive and --output name the same file \(output)")
        }
        try ManifestArchive.checkOutput(option: "--output", output: output, database: db.path, sources: sources, force: force)
        if let archive {
            try ManifestArchive.checkOutput(option: "--archive", output: archive, database: db.path, sources: sources, force: force)
        }
        let by = try self.by ?? .score(named: db.resolveScoreName(run: runID, nil))
        let request = ManifestRequest(
            runID: runID, selection: keep.map { .keep($0) } ?? .prune(prune ?? 0.5), ranking: by, perClass: perClass)
        let entries = try db.manifest(request)
        let plan = try archive.map {
            try ManifestArchive.prepare(store: db, runID: runID, entries: entries, output: $0, registry: .builtIn)
        }
        if let plan, ManifestArchive.sameFile(plan.dataset.sourcePath, output) {
            throw ManifestArchiveError.wouldOverwriteSource(option: "--output", output: output, source: plan.dataset.sourcePath)
        }

        // The archive goes first (it can fail on data); if the manifest then fails, an archive this command
        // created is removed again. Ctrl-C meanwhile removes temporary files and created outputs.
        let outputs = [output] + (archive.map { [$0] } ?? [])
        for stale in ExportCleanup.removeStaleTemporaries(outputs: outputs) {
            printError("note: removed \(stale), left by an export that was killed")
        }
        let cleanup = ExportCleanup(outputs: outputs)
        cleanup.arm()
        defer { cleanup.disarm() }
        let createdArchive = archive.flatMap { FileManager.default.fileExists(atPath: $0) ? nil : $0 }
        let summary: ExportSummary?
        do {
            summary = try plan.map(ManifestArchive.write)
            if let createdArchive { cleanup.markCreated(createdArchive) }
            try ManifestWriter.write(entries, ranking: by, format: manifestFormat, to: output)
        } catch {
            cleanup.removeTemporaries()
            if let createdArchive { try? FileManager.default.removeItem(atPath: createdArchive) }
            throw error
        }
        try warnAboutDroppedClasses(db, kept: entries)
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

extension ExportManifestCommand {
    /// Warns on stderr when the kept samples leave out every sample of a class the run trained on.
    func warnAboutDroppedClasses(_ db: ResultStore, kept: [ManifestEntry]) throws {
        let labels = try db.trainingLabels(run: runID)
        let all = Set(labels.values), keptClasses = Set(kept.compactMap { labels[$0.sampleID] })
        let dropped = all.subtracting(keptClasses).sorted()
        guard !dropped.isEmpty else { return }
        printError(
            "warning: the export keeps no sample of training class\(dropped.count == 1 ? "" : "es") "
                + "\(dropped.map(String.init).joined(separator: ", ")); --per-class keeps the fraction within each class")
    }
}

func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
