import Foundation
import Tensors

/// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}`, then the
/// raw little-endian tensor bytes. Winnow writes F32; it reads F32, F16 and BF16 (converted to Float32).
public enum SafeTensors {
    /// Tensors and string metadata of one file.
    public struct Contents: Sendable {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]

        public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    /// Writes `contents` to `url` atomically (temporary file, then rename): a crash never leaves half a file.
    public static func write(_ contents: Contents, to url: URL) throws {
        let keys = contents.tensors.keys.sorted()
        var header: [String: Any] = [:]
        if !contents.metadata.isEmpty { header["__metadata__"] = contents.metadata }
        var offset = 0
        for key in keys {
            let t = contents.tensors[key]!
            header[key] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so the data is 8-byte aligned
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for key in keys {
            contents.tensors[key]!.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw SafeTensorsError.unwritable(url.path, reason: error.localizedDescription)
        }
    }

    /// Reads a safetensors file.
    /// - Parameter including: which tensors to decode, by key (all by default); the others are skipped
    ///   whatever their dtype (an `I64` `position_ids` buffer, say).
    public static func read(_ url: URL, including: (String) -> Bool = { _ in true }) throws -> Contents {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafeTensorsError.unreadable(url.path, reason: error.localizedDescription)
        }
        return try decode(data, source: url.path, including: including)
    }

    /// Decodes safetensors bytes; `source` names the file in errors; only keys passing `including` are decoded.
    public static func decode(_ data: Data, source: String, including: (String) -> Bool = { _ in true }) throws -> Contents {
        guard data.count >= 8 else { throw SafeTensorsError.malformed(source, "file shorter than its 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw SafeTensorsError.malformed(source, "header length \(headerLength) exceeds the file size \(data.count)")
        }
        let start = data.startIndex
        let headerData = data[(start + 8)..<(start + 8 + Int(headerLength))]
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw SafeTensorsError.malformed(source, "header is not a JSON object")
        }
        let body = start + 8 + Int(headerLength)
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard including(key) else { continue }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw SafeTensorsError.malformed(source, "entry '\(key)' lacks dtype, shape or data_offsets")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw SafeTensorsError.unsupportedType(source, key: key, dtype: dtype)
            }
            // Every product and sum checked for overflow: the header is untrusted input.
            let bodySize = data.endIndex - body
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard dimension >= 0, !overflow, product <= bodySize else {
                    throw SafeTensorsError.malformed(source, "entry '\(key)' has shape \(shape), which does not fit in the file")
                }
                count = product
            }
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= bodySize, offsets[1] - offsets[0] == count * width else {
                throw SafeTensorsError.malformed(
                    source, "entry '\(key)' has offsets \(offsets) that do not fit shape \(shape) as \(dtype) in the file")
            }
            let bytes = data[(body + offsets[0])..<(body + offsets[1])]
            tensors[key] = Tensor(shape: shape, storage: convert(bytes, dtype: dtype, count: count))
        }
        return Contents(tensors: tensors, metadata: metadata)
    }

    private static func convert(_ bytes: Data, dtype: String, count: Int) -> [Float] {
        bytes.withUnsafeBytes { raw -> [Float] in
            switch dtype {
            case "F32":
                return (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            case "BF16":
                return (0..<count).map {
                    Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16)
                }
            default:
                return (0..<count).map { halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            }
        }
    }

    private static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = (h & 0x8000) != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F), mantissa = Float(h & 0x3FF)
        if exponent == 0 { return sign * mantissa * 0x1p-24 }
        if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
        return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}

/// Errors reading or writing safetensors files; each names the file.
public enum SafeTensorsError: Error, LocalizedError, Equatable {
    case unreadable(String, reason: String)
    case unwritable(String, reason: String)
    case malformed(String, String)
    case unsupportedType(String, key: String, dtype: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read safetensors file (\(reason))"
        case let .unwritable(path, reason): "\(path): cannot write safetensors file (\(reason))"
        case let .malformed(path, what): "\(path): malformed safetensors file: \(what)"
        case let .unsupportedType(path, key, dtype): "\(path): tensor '\(key)' has unsupported dtype \(dtype) (F32, F16, BF16 are read)"
        }
    }
}
