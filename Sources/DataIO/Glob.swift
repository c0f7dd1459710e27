/// Shell-style glob over `/`-separated member paths.
///
/// `*` matches any run of characters within one path segment, `?` one character other than `/`,
/// `**` any run of characters including `/`; `**/` also matches zero directories, so `**/train.json`
/// matches both `train.json` and `rt-sentiment/train.json`. A pattern without wildcards is an exact path.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let bytes: [UInt8]

    /// Creates a glob from a pattern (a leading `./` is ignored).
    public init(_ pattern: String) {
        let p = ArchiveSource.normalise(pattern)
        self.pattern = p
        self.bytes = Array(p.utf8)
    }

    /// True if the pattern contains no wildcard, i.e. it names one exact path.
    public var isLiteral: Bool { !bytes.contains(UInt8(ascii: "*")) && !bytes.contains(UInt8(ascii: "?")) }

    public var description: String { pattern }

    /// Whether `path` matches the pattern.
    public func matches(_ path: String) -> Bool {
        let s = Array(ArchiveSource.normalise(path).utf8)
        return Glob.match(bytes, 0, s, 0)
    }

    private static let star = UInt8(ascii: "*"), question = UInt8(ascii: "?"), slash = UInt8(ascii: "/")

    private static func match(_ p: [UInt8], _ pi: Int, _ s: [UInt8], _ si: Int) -> Bool {
        var pi = pi, si = si
        while pi < p.count {
            let c = p[pi]
            if c == star {
                if pi + 1 < p.count && p[pi + 1] == star {
                    // `**`: any run including '/'; `**/` may also match nothing.
                    var next = pi + 2
                    if next < p.count && p[next] == slash {
                        next += 1
                        if match(p, next, s, si) { return true }
                    }
                    var k = si
                    while k <= s.count {
                        if match(p, next, s, k) { return true }
                        k += 1
                    }
                    return false
                }
                var k = si
                while true {
                    if match(p, pi + 1, s, k) { return true }
                    if k >= s.count || s[k] == slash { return false }
                    k += 1
                }
            }
            guard si < s.count else { return false }
            if c == question {
                if s[si] == slash { return false }
            } else if c != s[si] {
                return false
            }
            pi += 1
            si += 1
        }
        return si == s.count
    }
}
