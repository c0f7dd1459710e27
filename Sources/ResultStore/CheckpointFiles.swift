import Foundation

/// One checkpoint file on disk.
public struct CheckpointFile: Sendable, Equatable {
    /// The file (absolute).
    public var path: String
    /// Its size in bytes.
    public var byteCount: Int
    /// The step of the `checkpoints` row that records it; nil for an orphan, a file no row records.
    public var step: Int?
}

/// The space a run keeps in checkpoints: its files on disk and the bytes stored in the database.
public struct CheckpointUsage: Sendable, Equatable {
    public var runID: Int64
    /// The run's checkpoint folder (``ResultStore/checkpointFolder(run:)``).
    public var folder: String
    /// Files that exist: those the run's rows record (anywhere) and every other file in the folder (orphans).
    public var files: [CheckpointFile]
    /// Rows whose file is gone (a run keeps only its newest checkpoint file; the rows of older ones stay).
    public var missingFileCount: Int
    /// Bytes of checkpoints held in the database itself (`checkpoints.data`).
    public var storedBytes: Int

    /// Files no row records.
    public var orphans: [CheckpointFile] { files.filter { $0.step == nil } }
    /// Bytes of all files, recorded and orphaned.
    public var fileBytes: Int { files.reduce(0) { $0 + $1.byteCount } }
    /// Everything the run keeps: files plus bytes stored in the database.
    public var totalBytes: Int { fileBytes + storedBytes }
}

extension ResultStore {
    /// `checkpoints/<database name without extension>-run-<id>` next to the database: where a run saves its
    /// checkpoint files (the layout of `RunContext.checkpointURL(step:)`).
    public func checkpointFolder(run runID: Int64) -> String {
        let database = URL(fileURLWithPath: path)
        let name = database.deletingPathExtension().lastPathComponent
        return database.deletingLastPathComponent().appendingPathComponent("checkpoints/\(name)-run-\(runID)").standardizedFileURL.path
    }

    /// The run's checkpoint files with their sizes (recorded ones and orphans in its folder), how many rows
    /// point at files that are gone, and the bytes stored in the database. Reads only.
    public func checkpointUsage(run runID: Int64) throws -> CheckpointUsage {
        let rows = try checkpoints(run: runID)
        let folder = checkpointFolder(run: runID)
        let fileManager = FileManager.default
        func size(_ path: String) -> Int? {
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return ((try? fileManager.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        }
        var files: [CheckpointFile] = []
        var recorded = Set<String>()
        var missing = 0
        for row in rows {
            guard let rowPath = row.path else { continue }
            let resolved = Self.resolved(rowPath)
            guard recorded.insert(resolved).inserted else { continue }
            if let bytes = size(resolved) {
                files.append(CheckpointFile(path: resolved, byteCount: bytes, step: row.step))
            } else {
                missing += 1
            }
        }
        let names = ((try? fileManager.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        for name in names {
            let file = Self.resolved(folder + "/" + name)
            guard !recorded.contains(file), let bytes = size(file) else { continue }
            files.append(CheckpointFile(path: file, byteCount: bytes, step: nil))
        }
        let stored = rows.reduce(0) { $0 + $1.byteCount }
        return CheckpointUsage(runID: runID, folder: folder, files: files, missingFileCount: missing, storedBytes: stored)
    }

    /// Deletes the files in the run's checkpoint folder that no `checkpoints` row records (left by a process
    /// that died between writing a file and recording it, or by a resume that dropped later rows) and returns
    /// them. Recorded files are kept. Refused while the run is marked running: a checkpoint being written has
    /// no row yet.
    @discardableResult
    public func removeOrphanCheckpoints(run runID: Int64) throws -> [CheckpointFile] {
        if try run(runID).status == .running {
            throw StoreError.invalidArgument(
                "run \(runID) in \(path) is still marked running; its checkpoint files are left alone until it ends")
        }
        let orphans = try checkpointUsage(run: runID).orphans
        for file in orphans {
            do {
                try FileManager.default.removeItem(atPath: file.path)
            } catch {
                throw StoreError.outputFailed(path: file.path, reason: "cannot delete orphaned checkpoint: \(error.localizedDescription)")
            }
        }
        return orphans
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
