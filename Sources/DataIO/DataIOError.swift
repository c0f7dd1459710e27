import Foundation

/// Every error a user can cause while reading or writing data: missing files, broken archives,
/// malformed JSON/CSV/IDX, inconsistent labels. Messages name the file, member, line, byte offset or key.
public enum DataIOError: Error, LocalizedError, Equatable, Sendable {
    /// The path does not exist.
    case fileNotFound(path: String)
    /// libarchive could not open or decode the archive (corrupt, truncated or unsupported).
    case archiveRead(path: String, member: String?, reason: String)
    /// A member requested by exact path is not in the archive.
    case memberNotFound(archive: String, member: String)
    /// No member matched a glob (or a required file such as `train.json` is missing).
    case noMatchingMembers(archive: String, pattern: String)
    /// Malformed JSON; `line` and `column` are 1-based, `byteOffset` 0-based within the member.
    case malformedJSON(file: String, line: Int, column: Int, byteOffset: Int, reason: String)
    /// A required key is missing or has the wrong type (`line` is 1-based when known, `id` when known).
    case badField(file: String, line: Int?, id: String?, key: String, reason: String)
    /// A label (gold or weak) that is not one of the classes in `label.json`.
    case unknownLabel(file: String, id: String, label: Int, classCount: Int)
    /// A feature vector (pixels) whose length differs from the others / from the header.
    case featureLengthMismatch(file: String, id: String, expected: Int, actual: Int)
    /// Malformed CSV (unterminated quote, wrong number of fields).
    case malformedCSV(file: String, line: Int, reason: String)
    /// Malformed IDX file (bad magic, truncated data, unsupported type).
    case malformedIDX(file: String, byteOffset: Int, reason: String)
    /// An images file and its labels file disagree on the number of items.
    case idxCountMismatch(images: String, labels: String, imageCount: Int, labelCount: Int)
    /// A split holds no samples.
    case emptySplit(file: String, split: String)
    /// The same sample id occurs twice in one split.
    case duplicateID(file: String, id: String)
    /// The data format of an archive or directory could not be recognised.
    case unknownFormat(path: String, reason: String)
    /// An archive entry path that is absolute or contains `..`.
    case unsafeEntryPath(path: String)
    /// Writing an output archive failed.
    case writeFailed(path: String, reason: String)
    /// An output archive name whose ending names no format the writer can produce (`.rar`, `.7z`, none).
    case unsupportedArchiveName(path: String, supported: [String])

    public var errorDescription: String? {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file or directory"
        case let .archiveRead(path, member, reason):
            if let member { return "\(path): member '\(member)': cannot read archive: \(reason)" }
            return "\(path): cannot read archive: \(reason)"
        case let .memberNotFound(archive, member):
            return "\(archive): no member named '\(member)'"
        case let .noMatchingMembers(archive, pattern):
            return "\(archive): no member matches '\(pattern)'"
        case let .malformedJSON(file, line, column, offset, reason):
            return "\(file):\(line):\(column): malformed JSON at line \(line), byte offset \(offset): \(reason)"
        case let .badField(file, line, id, key, reason):
            var at = file
            if let line { at += ":\(line)" }
            if let id { at += " (id '\(id)')" }
            return "\(at): key '\(key)': \(reason)"
        case let .unknownLabel(file, id, label, classCount):
            return "\(file): id '\(id)': label \(label) is not in label.json (\(classCount) classes)"
        case let .featureLengthMismatch(file, id, expected, actual):
            return "\(file): id '\(id)': expected \(expected) features (pixels), found \(actual)"
        case let .malformedCSV(file, line, reason):
            return "\(file):\(line): malformed CSV at line \(line): \(reason)"
        case let .malformedIDX(file, offset, reason):
            return "\(file): malformed IDX at byte offset \(offset): \(reason)"
        case let .idxCountMismatch(images, labels, imageCount, labelCount):
            return "\(images) has \(imageCount) images but \(labels) has \(labelCount) labels"
        case let .emptySplit(file, split):
            return "\(file): split '\(split)' is empty"
        case let .duplicateID(file, id):
            return "\(file): duplicate sample id '\(id)'"
        case let .unknownFormat(path, reason):
            return "\(path): unrecognised dataset format: \(reason)"
        case let .unsafeEntryPath(path):
            return "refusing archive entry '\(path)': absolute paths and '..' components are not allowed"
        case let .writeFailed(path, reason):
            return "\(path): write failed: \(reason)"
        case let .unsupportedArchiveName(path, supported):
            return "\(path): cannot write this archive format; name the output with one of \(supported.joined(separator: ", "))"
        }
    }
}
