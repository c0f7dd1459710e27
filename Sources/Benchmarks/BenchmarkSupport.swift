import CRuntime
import Foundation
import MetaLearning
import NoisyLabels
import Runtime

/// Timing helpers for `winnow bench`: medians of repeated runs and the process's peak memory.
public enum BenchmarkClock {
    /// Seconds taken by `body`, median over `repeats` runs after `warmup` untimed runs.
    public static func median(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> Double {
        let times = sortedTimes(repeats: repeats, warmup: warmup, body)
        return times[times.count / 2]
    }

    /// Seconds taken by `body`, the fastest of `repeats` runs after `warmup` untimed runs: for a reference peak
    /// (other load on the machine only ever slows a run down).
    public static func fastest(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> Double {
        sortedTimes(repeats: repeats, warmup: warmup, body)[0]
    }

    /// Median seconds of `first` and of `second`, run alternately `repeats` times each after `warmup` untimed
    /// runs of both: for a ratio between the two that load on a shared machine affects alike.
    public static func alternatingMedians(
        repeats: Int, warmup: Int = 1, _ first: () -> Void, _ second: () -> Void
    ) -> (first: Double, second: Double) {
        for _ in 0..<warmup {
            first()
            second()
        }
        var firstTimes: [Double] = [], secondTimes: [Double] = []
        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        for _ in 0..<max(repeats, 1) {
            firstTimes.append(seconds(first))
            secondTimes.append(seconds(second))
        }
        firstTimes.sort()
        secondTimes.sort()
        return (firstTimes[firstTimes.count / 2], secondTimes[secondTimes.count / 2])
    }

    private static func sortedTimes(repeats: Int, warmup: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        for _ in 0..<max(repeats, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()
    }

    /// Current resident set size of this process, in MiB (Linux `/proc/self/statm`; 0 elsewhere).
    public static var currentResidentMiB: Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    /// Starts a memory measurement window: returns free heap memory to the system (the executable keeps
    /// freed blocks in the heap) and resets the kernel's resident high-water mark (Linux `clear_refs` 5).
    /// Read the window's peak with `windowPeakResidentMiB`.
    public static func startMemoryWindow() {
        _ = winnow_release_free_memory()
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// The resident high-water mark since `startMemoryWindow()` (VmHWM), in MiB; the process peak if the
    /// kernel does not report it.
    public static var windowPeakResidentMiB: Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return peakResidentMiB }
        return kib / 1024
    }

    /// Peak resident set size of this process, in MiB.
    public static var peakResidentMiB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
    }
}

/// One line of a benchmark report.
public struct BenchmarkFigure: Codable, Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    public var note: String

    public init(_ name: String, _ value: Double, _ unit: String, note: String = "") {
        self.name = name; self.value = value; self.unit = unit; self.note = note
    }
}

/// A benchmark's figures and the conditions they were measured under.
public struct BenchmarkReport: Codable, Sendable {
    public var benchmark: String
    public var blasThreads: Int
    public var figures: [BenchmarkFigure]

    /// A Markdown table of the figures.
    public var markdown: String {
        var lines = ["| figure | value | unit | note |", "|---|---:|---|---|"]
        for f in figures {
            lines.append("| \(f.name) | \(benchmarkFigure(f.value)) | \(f.unit) | \(f.note) |")
        }
        return lines.joined(separator: "\n")
    }
}

/// A benchmark figure as the tables print it: three significant figures below 100, whole numbers above.
public func benchmarkFigure(_ x: Double) -> String { x >= 100 ? String(format: "%.0f", x) : String(format: "%.3g", x) }

extension MetaSettings {
    /// The benchmarks' meta settings unless told otherwise: unroll 1, meta batches of 100, every parameter
    /// perturbed, the given normalisation; the rest as in `MetaSettings()`.
    public static func benchmark(normalization: WeightNormalization) -> MetaSettings {
        var meta = MetaSettings()
        meta.unroll = 1
        meta.batchSize = 100
        meta.perturbTouchedOnly = false
        meta.normalization = normalization
        return meta
    }
}

/// Where a benchmark's figures go: named files written into an existing folder.
public enum BenchmarkFiles {
    /// Writes each (name, contents) into `folder`, each through a temporary file renamed into place; returns the
    /// paths written. A failed write throws `ApplicationError.unwritable` naming the file.
    public static func write(_ files: [(name: String, contents: Data)], to folder: String) throws -> [String] {
        var written: [String] = []
        for (name, contents) in files {
            let path = URL(fileURLWithPath: folder).appendingPathComponent(name).path
            do {
                try contents.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw ApplicationError.unwritable(path: path, reason: error.localizedDescription)
            }
            written.append(path)
        }
        return written
    }
}
