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
        /// xz-compressed tar.
        case tarXz
        /// zstd-compressed tar.
        case tarZstd
        /// zip (deflate).
        case zip

        /// Guesses the kind from a file name (`.tar.gz`/`.tgz`, `.tar.xz`, `.tar.zst`, `.zip`, `.tar`).
        public static func from(path: String) -> Kind? {
            if path.hasSuffix(".tar.gz") || path.hasSuffix(".tgz") { return .tarGz }
            if path.hasSuffix(".tar.xz") { return .tarXz }
            if path.hasSuffix(".tar.zst") { return .tarZstd }
            if path.hasSuffix(".zip") { return .zip }
            if path.hasSuffix(".tar") { return .tar }
            return nil
        }
    }

    /// Final destination.
    public let path: String
    private let tempPath: String
    private var handle: OpaquePointer?
    private var finished = false

    /// Opens a temporary file beside `path` for writing an archive of the given kind.
    public init(path: String, kind: Kind) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        let file = (path as NSString).lastPathComponent
        tempPath = (dir.isEmpty ? "." : dir) + "/.\(file).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
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
        guard let k = kind ?? Kind.from(path: path) else {
            throw DataIOError.writeFailed(path: path, reason: "cannot tell the archive kind from the file name")
        }
        let writer = try ArchiveWriter(path: path, kind: k)
        for e in entries { try writer.add(path: e.path, bytes: e.bytes) }
        try writer.finish()
    }
}
