import DataIO
import Foundation
import Recipes
import ResultStore

/// `winnow export manifest … --archive OUT`: writes the kept samples of a run as a new dataset archive in the
/// format of the run's dataset (the archive named by `dataset.archive` in the run's recorded recipe).
///
/// Everything that can go wrong is checked before anything is written: the recipe key, the source archive,
/// overwriting the source, sample keys the dataset does not have. The exporter writes atomically.
public enum ManifestArchive {
    /// What `prepare` found: the loaded dataset, the keys to keep and the splits they come from.
    public struct Plan: Sendable {
        public var runID: Int64
        public var dataset: Dataset
        public var keptKeys: Set<String>
        /// Splits to prune: those named when the run registered its samples, else the exporter's default.
        public var prunedSplits: Set<String>?
        public var output: String
    }

    /// The dataset archive recorded in a run's recipe (`dataset.archive`).
    /// Relative paths are tried against the working directory, then the recipe file's folder.
    public static func datasetArchive(of run: RunInfo, database: String) throws -> String {
        do {
            return try archive(of: run, key: "dataset.archive", database: database)
        } catch ManifestArchiveError.missingRecipeKey {
            throw ManifestArchiveError.missingDatasetKey(runID: run.id, database: database)
        }
    }

    /// The archive the run's registered samples are records of: the application's ``SampleSource`` when the
    /// run registered one split and the application names a source for it, else `dataset.archive`.
    public static func sampleArchive(of run: RunInfo, store: ResultStore, registry: ApplicationRegistry) throws -> String {
        if let source = try customSource(of: run, store: store, registry: registry) {
            return try archive(of: run, key: source.archiveKey, database: store.path)
        }
        return try datasetArchive(of: run, database: store.path)
    }

    /// The archives a run read that an export must never overwrite: `dataset.archive` and, when the application
    /// names another, the archive its samples are records of (those the recipe does not name are left out).
    public static func sourceArchives(of run: RunInfo, store: ResultStore, registry: ApplicationRegistry) -> [String] {
        let samples = try? sampleArchive(of: run, store: store, registry: registry)
        let dataset = try? datasetArchive(of: run, database: store.path)
        return [dataset, samples].compactMap { $0 }.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// The text of each of the run's samples by registered key (``sampleRecords(of:store:registry:)``; records
    /// without text are left out).
    public static func sampleTexts(of run: RunInfo, store: ResultStore, registry: ApplicationRegistry) throws -> [String: String] {
        try sampleRecords(of: run, store: store, registry: registry).records.compactMapValues(\.text)
    }

    /// Each of the run's samples by registered key, re-read from the archive its records are in
    /// (``sampleArchive(of:store:registry:)``): keys are record ids of the splits the samples come from, or
    /// `<split>/<record id>` of any split. Throws when the archive cannot be read (moved, or a relative path
    /// from another folder). Also the archive's class names.
    public static func sampleRecords(
        of run: RunInfo, store: ResultStore, registry: ApplicationRegistry
    ) throws -> (records: [String: DataRecord], classNames: [String]) {
        let source = try customSource(of: run, store: store, registry: registry)
        let dataset = try Dataset.load(path: sampleArchive(of: run, store: store, registry: registry))
        // The splits whose record ids are keys as they are: the source's, else those registered (else, as
        // `prepare` assumes, train or every split).
        var plain = try source.map { Set($0.splits ?? dataset.splitNames) } ?? Set(store.sampleSplits(run: run.id))
        if plain.isEmpty { plain = dataset[split: "train"] != nil ? ["train"] : Set(dataset.splitNames) }
        var records: [String: DataRecord] = [:]
        for split in dataset.splits {
            for record in split.records {
                records["\(split.name)/\(record.id)"] = record
                if plain.contains(split.name), records[record.id] == nil { records[record.id] = record }
            }
        }
        return (records, dataset.classNames)
    }

    /// The application's source of the run's samples, when there is one.
    private static func customSource(of run: RunInfo, store: ResultStore, registry: ApplicationRegistry) throws -> SampleSource? {
        let splits = try store.sampleSplits(run: run.id)
        guard splits.count == 1, let recipe = try? Recipe(yaml: run.recipe, source: "recipe of run \(run.id)"),
            let source = registry.sampleSource(application: run.application, split: splits[0], recipe: recipe.root)
        else { return nil }
        return source
    }

    /// The archive named by the dotted recipe `key` (`dataset.corpus`), resolved like `dataset.archive`.
    static func archive(of run: RunInfo, key: String, database: String) throws -> String {
        let recipe: Recipe
        do {
            recipe = try Recipe(yaml: run.recipe, source: "recipe of run \(run.id)")
        } catch {
            throw ManifestArchiveError.unreadableRecipe(
                runID: run.id, database: database, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        var node: RecipeNode? = recipe.root
        for part in key.split(separator: ".") { node = node?[String(part)] }
        guard let node, let path = node.scalar, !node.isNull, !path.isEmpty else {
            throw ManifestArchiveError.missingRecipeKey(runID: run.id, database: database, key: key)
        }
        return resolvedDataPath(path, recipePath: run.recipePath)
    }

    /// A dataset path from a recipe: absolute or existing from the working directory as is, else relative to the
    /// recipe file's folder when it exists there, else unchanged (loading then reports it missing, naming it).
    public static func resolvedDataPath(_ path: String, recipePath: String?) -> String {
        if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return path }
        if let recipePath {
            let candidate = URL(fileURLWithPath: recipePath).deletingLastPathComponent().appendingPathComponent(path).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return path
    }

    /// Finds and loads the run's dataset and checks the kept keys against it. Writes nothing. The dataset is the
    /// application's ``SampleSource`` for the split the run registered its samples under, when `registry` has
    /// one (``sampleArchive(of:store:registry:)``), else the recipe's `dataset.archive`.
    public static func prepare(
        store: ResultStore, runID: Int64, entries: [ManifestEntry], output: String, registry: ApplicationRegistry = ApplicationRegistry()
    ) throws -> Plan {
        let run = try store.run(runID)
        if let custom = try customSource(of: run, store: store, registry: registry) {
            return try prepare(store: store, run: run, source: custom, entries: entries, output: output)
        }
        let source = try datasetArchive(of: run, database: store.path)
        if sameFile(source, output) {
            throw ManifestArchiveError.wouldOverwriteSource(option: "--archive", output: output, source: source)
        }
        guard try store.hasSampleKeys(run: runID) else {
            throw ManifestArchiveError.noSampleKeys(runID: runID, database: store.path)
        }
        let dataset = try Dataset.load(path: source)
        let splits = try store.sampleSplits(run: runID)
        let pruned: Set<String>? = splits.isEmpty ? nil : Set(splits)
        for name in splits where dataset[split: name] == nil {
            throw ManifestArchiveError.missingSplit(split: name, archive: source, available: dataset.splitNames)
        }
        let prunedNames = pruned ?? (dataset[split: "train"] != nil ? ["train"] : Set(dataset.splitNames))
        var known = Set<String>()
        for split in dataset.splits where prunedNames.contains(split.name) { known.formUnion(split.ids) }
        var kept = Set<String>()
        kept.reserveCapacity(entries.count)
        for entry in entries {
            guard let key = entry.key else {
                throw ManifestArchiveError.unkeyedSample(runID: runID, database: store.path, sampleID: entry.sampleID)
            }
            guard known.contains(key) else {
                throw ManifestArchiveError.unknownKey(key: key, archive: source, splits: prunedNames.sorted())
            }
            kept.insert(key)
        }
        return Plan(runID: runID, dataset: dataset, keptKeys: kept, prunedSplits: pruned, output: output)
    }

    /// `prepare` for samples from an application's ``SampleSource``: the archive's splits `source.splits`
    /// (all of them when nil) are pruned to the kept records.
    private static func prepare(
        store: ResultStore, run: RunInfo, source: SampleSource, entries: [ManifestEntry], output: String
    ) throws -> Plan {
        let path = try archive(of: run, key: source.archiveKey, database: store.path)
        if sameFile(path, output) { throw ManifestArchiveError.wouldOverwriteSource(option: "--archive", output: output, source: path) }
        let dataset = try Dataset.load(path: path)
        let names = source.splits ?? dataset.splitNames
        for name in names where dataset[split: name] == nil {
            throw ManifestArchiveError.missingSplit(split: name, archive: path, available: dataset.splitNames)
        }
        // Key → record id, and how many pruned splits hold each record id (the exporter keeps ids, not keys).
        let prefixed = source.keysNameSplits && dataset.splits.count > 1
        var recordIDs: [String: String] = [:], holders: [String: Int] = [:]
        for split in dataset.splits where names.contains(split.name) {
            for id in split.ids {
                recordIDs[prefixed ? "\(split.name)/\(id)" : id] = id
                holders[id, default: 0] += 1
            }
        }
        var kept = Set<String>()
        for entry in entries {
            guard let key = entry.key else {
                throw ManifestArchiveError.unkeyedSample(runID: run.id, database: store.path, sampleID: entry.sampleID)
            }
            guard let id = recordIDs[key] else {
                throw ManifestArchiveError.unknownKey(key: key, archive: path, splits: names.sorted())
            }
            if (holders[id] ?? 0) > 1 { throw ManifestArchiveError.ambiguousKey(key: key, id: id, archive: path) }
            kept.insert(id)
        }
        return Plan(runID: run.id, dataset: dataset, keptKeys: kept, prunedSplits: Set(names), output: output)
    }

    /// Writes the archive (atomically: a temporary file renamed into place).
    @discardableResult
    public static func write(_ plan: Plan) throws -> ExportSummary {
        try DatasetExporter.export(plan.dataset, keeping: plan.keptKeys, to: plan.output, prunedSplits: plan.prunedSplits)
    }

    /// True when both paths name the same file: the same device and inode when both exist (hard links and
    /// symlinks included), else the same path once `.`, `..` and symlinked folders are resolved.
    package static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        if stat(a, &first) == 0, stat(b, &second) == 0 { return first.st_dev == second.st_dev && first.st_ino == second.st_ino }
        return resolved(a) == resolved(b)
    }

    private static func resolved(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: url.path) { return url.resolvingSymlinksInPath().path }
        return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent).path
    }

    /// Throws unless an export may write `output` (given as `option`). Checked before anything is written:
    /// - never over the result database or its `-wal`, `-shm`, `-journal` files, nor over (or into) the run's
    ///   source dataset, `force` or not;
    /// - never over an existing file unless `force`, and never over a folder;
    /// - the output's folder must exist.
    public static func checkOutput(option: String, output: String, database: String, source: String?, force: Bool) throws {
        try checkOutput(option: option, output: output, database: database, sources: source.map { [$0] } ?? [], force: force)
    }

    /// ``checkOutput(option:output:database:source:force:)`` protecting every archive in `sources`.
    public static func checkOutput(option: String, output: String, database: String, sources: [String], force: Bool) throws {
        guard !output.isEmpty else { throw ManifestArchiveError.emptyOutput(option: option) }
        let folder = ArchiveWriter.folderAndName(of: output).folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ManifestArchiveError.missingOutputFolder(option: option, output: output, folder: folder)
        }
        if ResultStore.databaseFiles(of: database).contains(where: { sameFile($0, output) }) {
            throw ManifestArchiveError.wouldOverwriteDatabase(option: option, output: output, database: database)
        }
        for source in sources {
            let sourceFolder = resolved(source) + "/"
            if sameFile(source, output) || resolved(output).hasPrefix(sourceFolder) {
                throw ManifestArchiveError.wouldOverwriteSource(option: option, output: output, source: source)
            }
        }
        guard FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue { throw ManifestArchiveError.outputIsFolder(option: option, output: output) }
        if !force { throw ManifestArchiveError.outputExists(option: option, output: output) }
    }
}

public enum ManifestArchiveError: Error, LocalizedError, Equatable, Sendable {
    case unreadableRecipe(runID: Int64, database: String, reason: String)
    case missingDatasetKey(runID: Int64, database: String)
    case noSampleKeys(runID: Int64, database: String)
    case unkeyedSample(runID: Int64, database: String, sampleID: Int)
    case wouldOverwriteSource(option: String, output: String, source: String)
    case wouldOverwriteDatabase(option: String, output: String, database: String)
    case outputExists(option: String, output: String)
    case outputIsFolder(option: String, output: String)
    case missingOutputFolder(option: String, output: String, folder: String)
    case emptyOutput(option: String)
    case missingSplit(split: String, archive: String, available: [String])
    case unknownKey(key: String, archive: String, splits: [String])
    case missingRecipeKey(runID: Int64, database: String, key: String)
    case ambiguousKey(key: String, id: String, archive: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadableRecipe(runID, database, reason):
            return "--archive: cannot read the recorded recipe of run \(runID) in \(database): \(reason)"
        case let .missingDatasetKey(runID, database):
            return "--archive: the recipe of run \(runID) in \(database) has no 'dataset.archive' key, so the run's dataset is unknown"
        case let .noSampleKeys(runID, database):
            return "--archive: run \(runID) in \(database) registered no sample keys (RunRecorder.registerSamples), "
                + "so its samples cannot be matched to dataset records"
        case let .unkeyedSample(runID, database, sampleID):
            return "--archive: sample \(sampleID) of run \(runID) in \(database) has results but no registered key"
        case let .wouldOverwriteSource(option, output, source):
            return "\(option) \(output): refusing to overwrite the run's source dataset \(source)"
        case let .wouldOverwriteDatabase(option, output, database):
            return "\(option) \(output): refusing to overwrite the result database \(database) (or its -wal/-shm files)"
        case let .outputExists(option, output):
            return "\(option) \(output): the file exists; pass --force to replace it"
        case let .outputIsFolder(option, output):
            return "\(option) \(output): is a folder; name a file"
        case let .missingOutputFolder(option, output, folder):
            return "\(option) \(output): folder \(folder) does not exist"
        case let .emptyOutput(option):
            return "\(option): give a file name"
        case let .missingSplit(split, archive, available):
            return "--archive: \(archive) has no split '\(split)' (it has \(available.joined(separator: ", ")))"
        case let .unknownKey(key, archive, splits):
            return "--archive: sample '\(key)' of the manifest is not in \(archive) (split \(splits.joined(separator: ", ")))"
        case let .missingRecipeKey(runID, database, key):
            return "--archive: the recipe of run \(runID) in \(database) has no '\(key)' key, so the archive of its samples is unknown"
        case let .ambiguousKey(key, id, archive):
            return "--archive: sample '\(key)' is record '\(id)' of \(archive), an id several of its splits hold; "
                + "an archive keeps records by id, so only one of them cannot be kept"
        }
    }
}
