/// A parsed JSON value. Numbers are `Double` (integers up to 2^53 are exact); objects keep key order.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// Any number (integers up to 2^53 exact).
    case number(Double)
    /// A string with escapes resolved.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object with keys in document order.
    case object(JSONObject)

    /// The string, if this is a string.
    public var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
    /// The number, if this is a number.
    public var doubleValue: Double? { if case let .number(d) = self { return d } else { return nil } }
    /// The number as an `Int`, if this is a number with no fractional part that fits in an `Int`.
    public var intValue: Int? {
        guard case let .number(d) = self, d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }
    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
    /// The object, if this is an object.
    public var objectValue: JSONObject? { if case let .object(o) = self { return o } else { return nil } }
    /// The Boolean, if this is `true` or `false`.
    public var boolValue: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    /// Member lookup for objects (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Serialises as JSON text with Python-style separators (`", "`, `": "`), keys in stored order.
    public func serialized() -> String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the JSON text of this value to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .number(d):
            if !d.isFinite {
                out.append(contentsOf: "null".utf8)
            } else if d.rounded() == d && abs(d) < 1e15 {
                out.append(contentsOf: String(Int(d)).utf8)
            } else {
                out.append(contentsOf: "\(d)".utf8)
            }
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(contentsOf: ", ".utf8) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(o):
            out.append(UInt8(ascii: "{"))
            for k in 0..<o.keys.count {
                if k > 0 { out.append(contentsOf: ", ".utf8) }
                JSONValue.writeString(o.keys[k], to: &out)
                out.append(contentsOf: ": ".utf8)
                o.values[k].write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `s` as a quoted JSON string (escaping quotes, backslashes and control characters).
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0a: out.append(contentsOf: "\\n".utf8)
            case 0x0d: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 15)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A JSON object with its keys in document order. Lookup by key is a linear scan (objects in
/// records are small); iterate `keys`/`values` for large objects such as a WRENCH split.
public struct JSONObject: Sendable, Equatable, Sequence {
    /// Keys in document order (a duplicated key keeps every occurrence; lookup finds the last).
    public var keys: [String]
    /// Values aligned with `keys`.
    public var values: [JSONValue]

    /// Creates an object from aligned keys and values.
    public init(keys: [String] = [], values: [JSONValue] = []) {
        precondition(keys.count == values.count, "JSONObject: \(keys.count) keys but \(values.count) values")
        self.keys = keys
        self.values = values
    }

    /// Number of members.
    public var count: Int { keys.count }

    /// The value of the last member named `key`.
    public subscript(key: String) -> JSONValue? {
        var k = keys.count - 1
        while k >= 0 {
            if keys[k] == key { return values[k] }
            k -= 1
        }
        return nil
    }

    /// Appends a member.
    public mutating func append(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
    }

    public func makeIterator() -> Zip2Sequence<[String], [JSONValue]>.Iterator {
        zip(keys, values).makeIterator()
    }
}
