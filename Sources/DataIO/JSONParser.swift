/// A byte-level JSON parser over `UnsafeBufferPointer<UInt8>` (RFC 8259: strings with all escapes
/// including `\uXXXX` surrogate pairs, numbers with fractions and exponents, arbitrary nesting up to
/// ``maxDepth``). Errors are ``DataIOError/malformedJSON(file:line:column:byteOffset:reason:)`` with
/// the 1-based line and column and the 0-based byte offset within the whole buffer.
public enum JSONParser {
    /// Deeper nesting is reported as an error rather than risking the stack.
    public static let maxDepth = 512

    /// Parses one JSON document (surrounding whitespace allowed) from `bytes`.
    public static func parse(_ bytes: [UInt8], source: String) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try parse($0, source: source) }
    }

    /// Parses one JSON document from a buffer.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, source: String) throws -> JSONValue {
        try parse(buffer, range: 0..<buffer.count, source: source)
    }

    /// Parses one JSON document occupying `range` of `buffer` (offsets in errors are relative to the
    /// start of `buffer`, so a JSONL line reports its real line number).
    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, range: Range<Int>,
        source: String
    ) throws -> JSONValue {
        guard let base = buffer.baseAddress else {
            throw DataIOError.malformedJSON(file: source, line: 1, column: 1, byteOffset: 0, reason: "empty input")
        }
        var p = ByteParser(base: base, whole: buffer.count, i: range.lowerBound, end: range.upperBound, source: source)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i < p.end { throw p.error("unexpected '\(p.printable(p.base[p.i]))' after the JSON value") }
        return v
    }
}

private let pow10: [Double] = (0...22).map { e in
    var x = 1.0
    for _ in 0..<e { x *= 10 }
    return x
}

struct ByteParser {
    let base: UnsafePointer<UInt8>
    let whole: Int
    var i: Int
    let end: Int
    let source: String

    func error(_ reason: String, at offset: Int? = nil) -> DataIOError {
        let off = min(offset ?? i, whole)
        var line = 1, lineStart = 0, k = 0
        while k < off {
            if base[k] == 0x0a { line += 1; lineStart = k + 1 }
            k += 1
        }
        return .malformedJSON(file: source, line: line, column: off - lineStart + 1, byteOffset: off, reason: reason)
    }

    func printable(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7f ? String(UnicodeScalar(c)) : "\\u{\(String(c, radix: 16))}"
    }

    @inline(__always) mutating func skipSpace() {
        while i < end {
            let c = base[i]
            if c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { i += 1 } else { return }
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard i < end else { throw error("unexpected end of input, expected a value") }
        switch base[i] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw error("unexpected '\(printable(base[i]))', expected a value")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        guard i + n <= end else { throw error("unexpected end of input in literal") }
        for k in 0..<n where base[i + k] != w[k] { throw error("invalid literal", at: i + k) }
        i += n
    }

    mutating func object(depth: Int) throws -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        i += 1
        var obj = JSONObject()
        skipSpace()
        if i < end && base[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
        while true {
            skipSpace()
            guard i < end else { throw error("unexpected end of input in object") }
            guard base[i] == UInt8(ascii: "\"") else { throw error("expected a string key, found '\(printable(base[i]))'") }
            let key = try string()
            skipSpace()
            guard i < end, base[i] == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
            i += 1
            skipSpace()
            obj.append(key, try value(depth: depth))
            skipSpace()
            guard i < end else { throw error("unexpected end of input in object") }
            if base[i] == UInt8(ascii: ",") { i += 1; continue }
            if base[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
            throw error("expected ',' or '}' in object, found '\(printable(base[i]))'")
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        i += 1
        var arr: [JSONValue] = []
        skipSpace()
        if i < end && base[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
        while true {
            skipSpace()
            arr.append(try value(depth: depth))
            skipSpace()
            guard i < end else { throw error("unexpected end of input in array") }
            if base[i] == UInt8(ascii: ",") { i += 1; continue }
            if base[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
            throw error("expected ',' or ']' in array, found '\(printable(base[i]))'")
        }
    }

    /// Parses a string starting at the opening quote.
    mutating func string() throws -> String {
        let open = i
        i += 1
        let start = i
        while i < end {
            let c = base[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            i += 1
        }
        guard i < end else { throw error("unterminated string", at: open) }
        var buf = [UInt8](UnsafeBufferPointer(start: base + start, count: i - start))
        while i < end {
            let c = base[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: buf, as: UTF8.self)
            }
            if c < 0x20 { throw error("control character in string") }
            if c != UInt8(ascii: "\\") { buf.append(c); i += 1; continue }
            i += 1
            guard i < end else { break }
            switch base[i] {
            case UInt8(ascii: "\""): buf.append(0x22)
            case UInt8(ascii: "\\"): buf.append(0x5c)
            case UInt8(ascii: "/"): buf.append(0x2f)
            case UInt8(ascii: "b"): buf.append(0x08)
            case UInt8(ascii: "f"): buf.append(0x0c)
            case UInt8(ascii: "n"): buf.append(0x0a)
            case UInt8(ascii: "r"): buf.append(0x0d)
            case UInt8(ascii: "t"): buf.append(0x09)
            case UInt8(ascii: "u"):
                let escStart = i - 1
                var scalar = try hex4(at: i + 1)
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 6 < end, base[i + 1] == UInt8(ascii: "\\"), base[i + 2] == UInt8(ascii: "u") else {
                        throw error("unpaired high surrogate \\u\(String(scalar, radix: 16))", at: escStart)
                    }
                    let low = try hex4(at: i + 3)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw error("high surrogate not followed by a low surrogate", at: escStart)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw error("unpaired low surrogate \\u\(String(scalar, radix: 16))", at: escStart)
                }
                let u = UnicodeScalar(scalar) ?? "\u{FFFD}"
                buf.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape '\\\(printable(base[i]))'")
            }
            i += 1
        }
        throw error("unterminated string", at: open)
    }

    func hex4(at k: Int) throws -> UInt32 {
        guard k + 4 <= end else { throw error("truncated \\u escape", at: k) }
        var v: UInt32 = 0
        for j in k..<(k + 4) {
            let c = base[j]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape", at: j)
            }
            v = v << 4 | d
        }
        return v
    }

    @inline(__always) func isDigit(_ k: Int) -> Bool {
        k < end && base[k] >= UInt8(ascii: "0") && base[k] <= UInt8(ascii: "9")
    }

    /// Parses a number; exact fast path for ≤ 15 significant digits and |exponent| ≤ 22.
    mutating func number() throws -> Double {
        let start = i
        var negative = false
        if base[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard isDigit(i) else { throw error("expected a digit") }
        var mantissa: UInt64 = 0
        var digits = 0
        var exp10 = 0
        if base[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw error("leading zero in number", at: start) }
        } else {
            while isDigit(i) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(base[i] - 48); digits += 1 } else { exp10 += 1 }
                i += 1
            }
        }
        var simple = true
        if i < end && base[i] == UInt8(ascii: ".") {
            simple = false
            i += 1
            guard isDigit(i) else { throw error("expected a digit after '.'") }
            while isDigit(i) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(base[i] - 48); digits += 1; exp10 -= 1 }
                i += 1
            }
        }
        if i < end && (base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E")) {
            simple = false
            i += 1
            var eneg = false
            if i < end && (base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-")) {
                eneg = base[i] == UInt8(ascii: "-"); i += 1
            }
            guard isDigit(i) else { throw error("expected a digit in exponent") }
            var e = 0
            while isDigit(i) {
                if e < 100_000 { e = e * 10 + Int(base[i] - 48) }
                i += 1
            }
            exp10 += eneg ? -e : e
        }
        if simple && digits <= 18 && exp10 == 0 {
            let v = Double(mantissa)
            return negative ? -v : v
        }
        if digits <= 15 && exp10 >= -22 && exp10 <= 22 && mantissa < (1 << 53) {
            var v = Double(mantissa)
            v = exp10 < 0 ? v / pow10[-exp10] : v * pow10[exp10]
            return negative ? -v : v
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
        guard let v = Double(text) else { throw error("invalid number '\(text)'", at: start) }
        return v
    }
}
