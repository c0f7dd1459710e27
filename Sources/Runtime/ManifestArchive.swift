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
        let recipe: Recipe
        do {
            recipe = try Recipe(yaml: run.recipe, source: "recipe of run \(run.id)")
        } catch {
            throw ManifestArchiveError.unreadableRecipe(
                runID: run.id, database: database,
                reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        guard let node = recipe.root["dataset"]?["archive"], let path = node.scalar, !node.isNull, !path.isEmpty else {
            throw ManifestArchiveError.missingDatasetKey(runID: run.id, database: database)
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

    /// Finds and loads the run's dataset and checks the kept keys against it. Writes nothing.
    public static func prepare(store: ResultStore, runID: Int64, entries: [ManifestEntry], output: String) throws -> Plan {
        let run = try store.run(runID)
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
        guard !output.isEmpty else { throw ManifestArchiveError.emptyOutput(option: option) }
        let folder = ArchiveWriter.folderAndName(of: output).folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ManifestArchiveError.missingOutputFolder(option: option, output: output, folder: folder)
        }
        if ResultStore.databaseFiles(of: database).contains(where: { sameFile($0, output) }) {
            throw ManifestArchiveError.wouldOverwriteDatabase(option: option, output: output, database: database)
        }
        if let source {
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
        }
    }
}
