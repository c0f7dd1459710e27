import Foundation

/// Throughput measurement of ``JSONParser`` for `winnow bench`.
public enum JSONBenchmark {
    /// Result of a benchmark: bytes parsed per run, median seconds per run, and MB/s (10^6 bytes).
    public struct Result: Sendable, Codable, CustomStringConvertible {
        /// Where the JSON came from (`path` or `path:member`).
        public let source: String
        /// Bytes parsed in one run.
        public let bytes: Int
        /// Median wall-clock seconds of one parse.
        public let seconds: Double
        /// `bytes / seconds / 1e6`.
        public let mbPerSecond: Double
        /// Number of timed runs.
        public let runs: Int

        public var description: String {
            String(
                format: "%@: %d bytes, median %.2f ms over %d runs, %.0f MB/s",
                source, bytes, seconds * 1e3, runs, mbPerSecond)
        }
    }

    /// Parses a JSON document `runs` times (after one warm-up) and reports the median.
    ///
    /// `path` is a JSON file, or an archive/directory with `member` naming the JSON member (a glob;
    /// the first match is used; default `**/train.json`). Only parsing is timed, not reading.
    public static func run(path: String, member: String? = nil, runs: Int = 9) throws -> Result {
        let source = try ArchiveSource(path: path)
        let plainJSON = member == nil && source.kind == .file && (path.hasSuffix(".json") || path.hasSuffix(".jsonl"))
        let pattern = member ?? (plainJSON ? "**" : "**/train.json")
        var bytes: [UInt8]?
        var name = path
        try source.forEachMember(matching: pattern) { p, b in
            if bytes == nil { bytes = b; name = p }
        }
        guard let data = bytes else { throw DataIOError.noMatchingMembers(archive: path, pattern: pattern) }
        let label = plainJSON ? path : "\(path):\(name)"
        return try run(bytes: data, source: label, runs: runs)
    }

    /// Parses `bytes` `runs` times (after one warm-up) and reports the median.
    public static func run(bytes: [UInt8], source: String, runs: Int = 9) throws -> Result {
        var times: [Double] = []
        _ = try JSONParser.parse(bytes, source: source)
        for _ in 0..<max(1, runs) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let v = try JSONParser.parse(bytes, source: source)
            let t1 = DispatchTime.now().uptimeNanoseconds
            withExtendedLifetime(v) {}
            times.append(Double(t1 - t0) / 1e9)
        }
        times.sort()
        let median = times[times.count / 2]
        return Result(
            source: source, bytes: bytes.count, seconds: median,
            mbPerSecond: Double(bytes.count) / median / 1e6, runs: times.count)
    }
}
