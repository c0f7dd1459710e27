import Foundation

/// An unsigned-byte IDX array (MNIST layout): dimensions and the raw bytes in row-major order.
public struct IDXArray: Sendable, Equatable {
    /// Dimensions; `dims[0]` is the number of items (60000×28×28 for Fashion-MNIST train images).
    public var dims: [Int]
    /// `dims.reduce(1, *)` bytes.
    public var data: [UInt8]

    /// Creates an array; `data.count` must equal the product of `dims` (checked).
    public init(dims: [Int], data: [UInt8]) {
        precondition(dims.reduce(1, *) == data.count, "IDXArray: dims \(dims) need \(dims.reduce(1, *)) bytes, got \(data.count)")
        self.dims = dims
        self.data = data
    }

    /// Number of items (`dims[0]`, or 1 for a scalar).
    public var count: Int { dims.first ?? 1 }
    /// Bytes per item (product of the remaining dimensions).
    public var itemSize: Int { dims.dropFirst().reduce(1, *) }
}

/// Reader and writer for IDX files (big-endian magic `00 00 08 ndims`, big-endian UInt32 dims, raw
/// bytes), gzip-compressed or not. Only the unsigned-byte type (0x08) used by MNIST is supported.
public enum IDXFormat {
    /// Parses an IDX file (decompressing it first if it is gzip/xz/zstd).
    public static func parse(_ bytes: [UInt8], file: String) throws -> IDXArray {
        let b = try Decompress.ifNeeded(bytes, name: file)
        guard b.count >= 4 else { throw DataIOError.malformedIDX(file: file, byteOffset: b.count, reason: "shorter than the 4-byte magic") }
        guard b[0] == 0, b[1] == 0 else {
            throw DataIOError.malformedIDX(file: file, byteOffset: 0, reason: "bad magic (first two bytes must be zero)")
        }
        guard b[2] == 0x08 else {
            throw DataIOError.malformedIDX(
                file: file, byteOffset: 2, reason: "unsupported element type 0x\(String(b[2], radix: 16)) (only unsigned byte 0x08)")
        }
        let ndims = Int(b[3])
        guard ndims >= 1 else { throw DataIOError.malformedIDX(file: file, byteOffset: 3, reason: "zero dimensions") }
        let headerSize = 4 + 4 * ndims
        guard b.count >= headerSize else {
            throw DataIOError.malformedIDX(
                file: file, byteOffset: b.count, reason: "truncated header (\(ndims) dimensions need \(headerSize) bytes)")
        }
        var dims: [Int] = []
        for d in 0..<ndims {
            let o = 4 + 4 * d
            dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        // Every product of the dimensions (an item's size, the whole) must fit, even when one of them is 0.
        var nonZero = 1
        for v in dims where v > 0 {
            let (product, overflow) = nonZero.multipliedReportingOverflow(by: v)
            guard !overflow, product <= Int(Int32.max) * 1024 else {
                throw DataIOError.malformedIDX(file: file, byteOffset: 4, reason: "dimensions \(dims) are too large")
            }
            nonZero = product
        }
        let total = dims.contains(0) ? 0 : nonZero
        let available = b.count - headerSize
        guard available == total else {
            throw DataIOError.malformedIDX(
                file: file, byteOffset: b.count,
                reason: "dimensions \(dims) need \(total) data bytes, found \(available)\(available < total ? " (truncated)" : "")")
        }
        return IDXArray(dims: dims, data: Array(b[headerSize...]))
    }

    /// Encodes an array as an uncompressed IDX file.
    public static func encode(_ array: IDXArray) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(array.dims.count)]
        for d in array.dims {
            out += [
                UInt8(truncatingIfNeeded: d >> 24), UInt8(truncatingIfNeeded: d >> 16),
                UInt8(truncatingIfNeeded: d >> 8), UInt8(truncatingIfNeeded: d),
            ]
        }
        out += array.data
        return out
    }

    /// Pairs an images array with a labels array into a split. Features are the raw pixel values
    /// 0–255 as `Float`; ids are `imagesMember#index` unless `ids` is given (from an `.ids` sidecar).
    public static func split(
        name: String, images: IDXArray, imagesMember: String, labels: IDXArray,
        labelsMember: String, ids: [String]? = nil
    ) throws -> LabeledSplit {
        guard labels.dims.count == 1 else {
            throw DataIOError.malformedIDX(
                file: labelsMember, byteOffset: 3, reason: "a labels file must have 1 dimension, found \(labels.dims.count)")
        }
        guard images.count == labels.count else {
            throw DataIOError.idxCountMismatch(
                images: imagesMember, labels: labelsMember,
                imageCount: images.count, labelCount: labels.count)
        }
        guard images.count > 0 else { throw DataIOError.emptySplit(file: imagesMember, split: name) }
        if let ids, ids.count != images.count {
            throw DataIOError.badField(
                file: imagesMember + ".ids", line: nil, id: nil, key: "ids",
                reason: "\(ids.count) ids for \(images.count) images")
        }
        let size = images.itemSize
        var records: [DataRecord] = []
        records.reserveCapacity(images.count)
        images.data.withUnsafeBufferPointer { px in
            for i in 0..<images.count {
                let feats = [Float](unsafeUninitializedCapacity: size) { buf, n in
                    for k in 0..<size { buf[k] = Float(px[i * size + k]) }
                    n = size
                }
                records.append(
                    DataRecord(
                        id: ids?[i] ?? positionalID(member: imagesMember, index: i),
                        features: feats, label: Int(labels.data[i])))
            }
        }
        return LabeledSplit(
            name: name, member: imagesMember, labelsMember: labelsMember, records: records,
            hasIntrinsicIDs: false)
    }

    /// Reads an images file and a labels file (plain or `.gz`, or any ``ArchiveSource`` path holding one file).
    public static func load(images: String, labels: String, name: String = "train") throws -> LabeledSplit {
        let (im, imName) = try readSingle(images)
        let (lb, lbName) = try readSingle(labels)
        return try split(
            name: name, images: try parse(im, file: images), imagesMember: imName,
            labels: try parse(lb, file: labels), labelsMember: lbName)
    }

    private static func readSingle(_ path: String) throws -> ([UInt8], String) {
        let src = try ArchiveSource(path: path)
        var result: ([UInt8], String)?
        try src.forEachMember { p, b in if result == nil { result = (b, p) } }
        guard let result else { throw DataIOError.noMatchingMembers(archive: path, pattern: "**") }
        return result
    }

    /// The labels member paired with an images member (`*-images-idx3-ubyte*` → `*-labels-idx1-ubyte*`).
    static func labelsName(forImages path: String) -> String? {
        guard let r = path.range(of: "images-idx3-ubyte", options: .backwards) else { return nil }
        return path.replacingCharacters(in: r, with: "labels-idx1-ubyte")
    }

    /// Split name for an images member: the file-name prefix before `-images`, with `t10k` → `test`.
    static func splitName(forImages path: String) -> String {
        let file = String(path.split(separator: "/").last ?? "")
        let prefix = file.components(separatedBy: "-images").first ?? file
        return prefix == "t10k" ? "test" : prefix
    }
}
