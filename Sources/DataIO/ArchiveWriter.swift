import CArchive
import Foundation

/// Writes an archive atomically: entries go to a temporary file next to the destination, which is
/// renamed into place by ``finish()``; on any failure (or if `finish` is never called) the
/// temporary file is removed and the destination is untouched.
public final class ArchiveWriter {
    /// Container and compression of the output.
    public enum Kind: String, Sendable, CaseIterable {
        /// Uncompressed POSIX tar.
        case tar
        /// gzip-compressed tar.
        case tarGz
        /// bzip2-compressed tar.
        case tarBz2
        /// xz-compressed tar.
        case tarXz
        /// zstd-compressed tar.
        case tarZstd
        /// zip (deflate).
        case zip

        /// The file name endings ``from(path:)`` recognises (in any letter case), for error messages and help.
        public static let supportedExtensions = [".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".tar.zst", ".tar", ".zip"]

        /// The kind a file name asks for (`.tar.gz`/`.tgz`, `.tar.bz2`/`.tbz2`, `.tar.xz`, `.tar.zst`, `.zip`,
        /// `.tar`, in any letter case), or nil for any other name: callers refuse those rather than write one
        /// format under another format's name.
        public static func from(path: String) -> Kind? {
            let name = path.lowercased()
            if name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") { return .tarGz }
            if name.hasSuffix(".tar.bz2") || name.hasSuffix(".tbz2") { return .tarBz2 }
            if name.hasSuffix(".tar.xz") { return .tarXz }
            if name.hasSuffix(".tar.zst") { return .tarZstd }
            if name.hasSuffix(".zip") { return .zip }
            if name.hasSuffix(".tar") { return .tar }
            return nil
        }

        /// Like ``from(path:)``, but throws ``DataIOError/unsupportedArchiveName(path:supported:)`` naming the
        /// supported endings when the name has none of them.
        public static func required(path: String) throws -> Kind {
            guard let kind = from(path: path) else {
                throw DataIOError.unsupportedArchiveName(path: path, supported: supportedExtensions)
            }
            return kind
        }
    }

    /// The folder (`.` for a bare name) and file name of `path`. Split on the last `/` by hand: on Linux,
    /// Foundation's `NSString.deletingLastPathComponent` traps on a one-character path such as `z`.
    public static func folderAndName(of path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = path[..<slash]
        return (folder.isEmpty ? "/" : String(folder), String(path[path.index(after: slash)...]))
    }

    /// The prefix of every temporary file this process writes beside `path` (`.<name>.tmp-<pid>`); the manifest
    /// writer uses the same convention, so an interrupted export can find and remove what it left.
    public static func temporaryPrefix(for path: String) -> String {
        ".\(folderAndName(of: path).name).tmp-\(getpid())"
    }

    /// Final destination.
    public let path: String
    private let tempPath: String
    private var handle: OpaquePointer?
    private var finished = false

    /// Opens a temporary file beside `path` for writing an archive of the given kind.
    public init(path: String, kind: Kind) throws {
        self.path = path
        let folder = ArchiveWriter.folderAndName(of: path).folder
        tempPath = folder + "/" + ArchiveWriter.temporaryPrefix(for: path) + "-\(UInt32.random(in: 0...UInt32.max))"
        guard let a = archive_write_new() else { throw DataIOError.writeFailed(path: path, reason: "archive_write_new failed") }
        handle = a
        var r: Int32
        switch kind {
        case .zip: r = archive_write_set_format_zip(a)
        default: r = archive_write_set_format_pax_restricted(a)
        }
        if r == ARCHIVE_OK {
            switch kind {
            case .tarGz: r = archive_write_add_filter_gzip(a)
            case .tarBz2: r = archive_write_add_filter_bzip2(a)
            case .tarXz: r = archive_write_add_filter_xz(a)
            case .tarZstd: r = archive_write_add_filter_zstd(a)
            case .tar, .zip: r = ARCHIVE_OK
            }
        }
        if r == ARCHIVE_OK { r = archive_write_open_filename(a, tempPath) }
        if r != ARCHIVE_OK {
            let message = LibArchiveReader.message(a)
            archive_write_free(a)
            handle = nil
            unlink(tempPath)
            throw DataIOError.writeFailed(path: path, reason: message)
        }
    }

    deinit {
        if let handle { archive_write_free(handle) }
        if !finished { unlink(tempPath) }
    }

    /// Checks that an entry path is relative and has no `..` component.
    public static func validate(entryPath: String) throws {
        let comps = entryPath.split(separator: "/", omittingEmptySubsequences: false)
        if entryPath.isEmpty || entryPath.hasPrefix("/") || comps.contains("..") || entryPath.contains("\0") {
            throw DataIOError.unsafeEntryPath(path: entryPath)
        }
    }

    /// Adds a regular file (mode 0644).
    public func add(path entryPath: String, bytes: [UInt8]) throws {
        try ArchiveWriter.validate(entryPath: entryPath)
        guard let a = handle, !finished else { throw DataIOError.writeFailed(path: path, reason: "archive already finished") }
        guard let entry = archive_entry_new() else { throw DataIOError.writeFailed(path: path, reason: "archive_entry_new failed") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, ArchiveSource.normalise(entryPath))
        archive_entry_set_size(entry, la_int64_t(bytes.count))
        archive_entry_set_filetype(entry, winnow_ae_ifreg())
        archive_entry_set_perm(entry, 0o644)
        archive_entry_set_mtime(entry, time(nil), 0)
        guard archive_write_header(a, entry) == ARCHIVE_OK else { throw fail(a) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                archive_write_data(a, raw.baseAddress! + offset, bytes.count - offset)
            }
            guard n > 0 else { throw fail(a) }
            offset += n
        }
    }

    /// Closes the archive and renames the temporary file to `path`.
    public func finish() throws {
        guard let a = handle, !finished else { return }
        let r = archive_write_close(a)
        if r != ARCHIVE_OK { throw fail(a) }
        archive_write_free(a)
        handle = nil
        guard rename(tempPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tempPath)
            throw DataIOError.writeFailed(path: path, reason: reason)
        }
        finished = true
    }

    private func fail(_ a: OpaquePointer) -> DataIOError {
        DataIOError.writeFailed(path: path, reason: LibArchiveReader.message(a))
    }

    /// Writes `entries` to a new archive at `path` in one call (atomic; kind from the extension if nil).
    public static func write(to path: String, kind: Kind? = nil, entries: [(path: String, bytes: [UInt8])]) throws {
        for e in entries { try validate(entryPath: e.path) }
        let writer = try ArchiveWriter(path: path, kind: kind ?? Kind.required(path: path))
        for e in entries { try writer.add(path: e.path, bytes: e.bytes) }
        try writer.finish()
    }
}
