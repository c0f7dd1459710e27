import CArchive
import Foundation

/// One member (file) of an archive or directory.
public struct ArchiveMember: Sendable, Hashable, Codable {
    /// Path inside the archive, `/`-separated, without a leading `./`.
    public let path: String
    /// Uncompressed size in bytes when the container records it (nil for a raw compressed stream).
    public let size: Int?

    /// Memberwise initialiser; see the properties for meanings and defaults.
    public init(path: String, size: Int?) {
        self.path = path
        self.size = size
    }
}

/// A readable collection of members: a tar/tar.gz/tar.xz/tar.zst/zip archive, a single plain or
/// compressed file (e.g. an IDX `.gz`, read through libarchive's raw format), or a directory.
///
/// Members are streamed from the archive into memory one at a time; nothing is extracted to disk.
/// A single non-archive file appears as one member named after the file without its compression
/// suffix (`train-images-idx3-ubyte.gz` → `train-images-idx3-ubyte`).
public struct ArchiveSource: Sendable {
    /// What kind of container `path` is.
    public enum Kind: Sendable, Equatable {
        /// A directory walked recursively.
        case directory
        /// A file read through libarchive (an archive, or a single raw/compressed file).
        case file
    }

    /// The path given at creation.
    public let path: String
    /// Directory or file.
    public let kind: Kind

    /// Opens `path` (nothing is read yet). Throws `fileNotFound` if it does not exist.
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataIOError.fileNotFound(path: path)
        }
        self.path = path
        self.kind = isDir.boolValue ? .directory : .file
    }

    /// Lists all regular-file members, in archive order (sorted for directories).
    public func members() throws -> [ArchiveMember] {
        switch kind {
        case .directory:
            return try directoryFiles().map { rel in
                let attrs = try? FileManager.default.attributesOfItem(atPath: path + "/" + rel)
                return ArchiveMember(path: rel, size: (attrs?[.size] as? NSNumber)?.intValue)
            }
        case .file:
            var out: [ArchiveMember] = []
            try scan(wantData: { _ in false }) { member, _ in
                out.append(member)
                return true
            }
            return out
        }
    }

    /// Reads one member by exact path (a leading `./` is ignored).
    public func read(member: String) throws -> [UInt8] {
        let wanted = ArchiveSource.normalise(member)
        switch kind {
        case .directory:
            guard !wanted.split(separator: "/").contains(".."),
                let data = FileManager.default.contents(atPath: path + "/" + wanted)
            else {
                throw DataIOError.memberNotFound(archive: path, member: wanted)
            }
            return [UInt8](data)
        case .file:
            var found: [UInt8]?
            try scan(wantData: { $0 == wanted }) { _, bytes in
                found = bytes
                return bytes == nil  // stop at the first match
            }
            guard let found else { throw DataIOError.memberNotFound(archive: path, member: wanted) }
            return found
        }
    }

    /// Streams every member whose path matches `glob` (see ``Glob``) to `body`, in archive order.
    public func forEachMember(
        matching glob: String = "**",
        _ body: (_ path: String, _ bytes: [UInt8]) throws -> Void
    ) throws {
        let g = Glob(glob)
        switch kind {
        case .directory:
            for rel in try directoryFiles() where g.matches(rel) {
                guard let data = FileManager.default.contents(atPath: path + "/" + rel) else {
                    throw DataIOError.archiveRead(path: path, member: rel, reason: "cannot read file")
                }
                try body(rel, [UInt8](data))
            }
        case .file:
            try scan(wantData: { g.matches($0) }) { m, bytes in
                if let bytes { try body(m.path, bytes) }
                return true
            }
        }
    }

    /// Lists the members whose path matches `glob`.
    public func members(matching glob: String) throws -> [ArchiveMember] {
        let g = Glob(glob)
        return try members().filter { g.matches($0.path) }
    }

    /// Reads every member matching `glob` into memory.
    public func readMembers(matching glob: String) throws -> [(path: String, bytes: [UInt8])] {
        var out: [(path: String, bytes: [UInt8])] = []
        try forEachMember(matching: glob) { out.append((path: $0, bytes: $1)) }
        return out
    }

    /// Strips leading `./` (repeatedly) and a trailing `/`.
    static func normalise(_ p: String) -> String {
        var s = Substring(p)
        while s.hasPrefix("./") { s = s.dropFirst(2) }
        while s.count > 1 && s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }

    /// The member name used for a single raw (non-archive) file.
    static func rawMemberName(for path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for ext in [".gz", ".xz", ".zst", ".bz2", ".lz4", ".Z"] where name.hasSuffix(ext) && name.count > ext.count {
            name.removeLast(ext.count)
            break
        }
        return name
    }

    private func directoryFiles() throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw DataIOError.archiveRead(path: path, member: nil, reason: "cannot list directory")
        }
        var files: [String] = []
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                files.append(ArchiveSource.normalise(rel))
            }
        }
        return files.sorted()
    }

    /// True if `path` is a single plain or compressed file rather than an archive or directory.
    public func isSingleFile() throws -> Bool {
        guard kind == .file else { return false }
        let reader = try LibArchiveReader(file: path)
        return try reader.nextHeader()?.isRaw ?? false
    }

    /// Walks the archive once; `wantData(path)` says whether to read a member's bytes
    /// (`visit` gets nil bytes for members not wanted and returns false to stop early).
    private func scan(
        wantData: (String) -> Bool,
        _ visit: (ArchiveMember, [UInt8]?) throws -> Bool
    ) throws {
        let reader = try LibArchiveReader(file: path)
        while let header = try reader.nextHeader() {
            let name = header.isRaw ? ArchiveSource.rawMemberName(for: path) : header.path
            guard header.isRegularFile else { continue }
            let member = ArchiveMember(path: name, size: header.isRaw ? nil : header.size)
            if wantData(name) {
                if try !visit(member, try reader.readData(member: name, sizeHint: header.size)) { return }
            } else if try !visit(member, nil) {
                return
            }
        }
    }
}

/// Thin owner of a libarchive read handle.
final class LibArchiveReader {
    struct Header {
        var path: String
        var size: Int?
        var isRegularFile: Bool
        var isRaw: Bool
    }

    private let handle: OpaquePointer
    let name: String
    /// The member whose header was read last (named in errors found while skipping past it).
    private var current: String?

    /// Opens a file with every filter, the archive formats, and the raw format for non-archive files.
    /// `mtree` and `warc` are left out on purpose: their text heuristics claim plain text files.
    init(file: String) throws {
        guard let a = archive_read_new() else {
            throw DataIOError.archiveRead(path: file, member: nil, reason: "archive_read_new failed")
        }
        handle = a
        name = file
        archive_read_support_filter_all(a)
        archive_read_support_format_tar(a)
        archive_read_support_format_gnutar(a)
        archive_read_support_format_zip(a)
        archive_read_support_format_7zip(a)
        archive_read_support_format_cpio(a)
        archive_read_support_format_ar(a)
        archive_read_support_format_iso9660(a)
        archive_read_support_format_rar(a)
        archive_read_support_format_rar5(a)
        archive_read_support_format_xar(a)
        archive_read_support_format_cab(a)
        archive_read_support_format_lha(a)
        archive_read_support_format_empty(a)
        archive_read_support_format_raw(a)
        if archive_read_open_filename(a, file, 1 << 16) != ARCHIVE_OK {
            throw DataIOError.archiveRead(path: file, member: nil, reason: LibArchiveReader.message(a))
        }
    }

    /// Opens an in-memory buffer (the caller keeps `buffer` alive while reading).
    init(memory buffer: UnsafeRawBufferPointer, name: String) throws {
        guard let a = archive_read_new() else {
            throw DataIOError.archiveRead(path: name, member: nil, reason: "archive_read_new failed")
        }
        handle = a
        self.name = name
        archive_read_support_filter_all(a)
        archive_read_support_format_raw(a)
        if archive_read_open_memory(a, buffer.baseAddress, buffer.count) != ARCHIVE_OK {
            throw DataIOError.archiveRead(path: name, member: nil, reason: LibArchiveReader.message(a))
        }
    }

    deinit { archive_read_free(handle) }

    static func message(_ a: OpaquePointer) -> String {
        if let s = archive_error_string(a) { return String(cString: s) }
        return "unknown libarchive error"
    }

    /// The next header, nil at the end of the archive.
    func nextHeader() throws -> Header? {
        var entry: OpaquePointer?
        let r = archive_read_next_header(handle, &entry)
        if r == ARCHIVE_EOF { return nil }
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else {
            // Truncation is usually found while skipping the previous member's data: name that member.
            throw DataIOError.archiveRead(path: name, member: current, reason: LibArchiveReader.message(handle))
        }
        let isRaw = archive_format(handle) == ARCHIVE_FORMAT_RAW
        let p = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let size = archive_entry_size_is_set(entry) != 0 ? Int(archive_entry_size(entry)) : nil
        let type = UInt32(archive_entry_filetype(entry))
        current = isRaw ? ArchiveSource.rawMemberName(for: name) : ArchiveSource.normalise(p)
        return Header(
            path: ArchiveSource.normalise(p), size: size,
            isRegularFile: isRaw || type == winnow_ae_ifreg(), isRaw: isRaw)
    }

    /// Reads the current entry's data completely.
    func readData(member: String, sizeHint: Int?) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(max(0, min(sizeHint ?? (1 << 20), 1 << 28)))
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, chunk) }
            if n == 0 { break }
            if n < 0 {
                throw DataIOError.archiveRead(path: name, member: member, reason: LibArchiveReader.message(handle))
            }
            out.append(contentsOf: buffer[0..<n])
        }
        if let sizeHint, out.count != sizeHint {
            throw DataIOError.archiveRead(
                path: name, member: member,
                reason: "expected \(sizeHint) bytes, read \(out.count) (truncated)")
        }
        return out
    }
}

/// Decompression of a member that is itself compressed (e.g. an IDX `.gz` inside a tar).
enum Decompress {
    /// True if `bytes` start with a gzip, xz, zstd or bzip2 signature.
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return true }
        if bytes.count >= 6 && bytes[0...5].elementsEqual([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return true }
        if bytes.count >= 4 && bytes[0...3].elementsEqual([0x28, 0xb5, 0x2f, 0xfd]) { return true }
        if bytes.count >= 3 && bytes[0...2].elementsEqual([0x42, 0x5a, 0x68]) { return true }
        return false
    }

    /// Returns the decompressed bytes if compressed, else `bytes` unchanged.
    static func ifNeeded(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        guard isCompressed(bytes) else { return bytes }
        return try bytes.withUnsafeBytes { raw in
            let reader = try LibArchiveReader(memory: raw, name: name)
            guard try reader.nextHeader() != nil else {
                throw DataIOError.archiveRead(path: name, member: nil, reason: "empty compressed stream")
            }
            return try reader.readData(member: name, sizeHint: nil)
        }
    }
}
