import Foundation
import ResultStore
import Tensors

#if canImport(Glibc)
    import Glibc
#endif

/// The Winnow release: what `winnow --version` prints and every run records. Bump it with each release.
public enum WinnowRelease {
    /// Semantic version of this build.
    public static let version = "0.4.0"
}

extension RunEnvironment {
    /// The environment of this process, for a run on `ranks` MPI ranks: Winnow's version, OpenBLAS's configuration
    /// and thread count, the host, the CPU as /proc/cpuinfo names it and the OS. Never throws: what cannot be
    /// read is "unknown".
    public static func current(ranks: Int, cpuInfoPath: String = "/proc/cpuinfo") -> RunEnvironment {
        let cpu = cpuInfo(path: cpuInfoPath)
        let variable = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"]
        return RunEnvironment(
            winnowVersion: WinnowRelease.version, blas: BLAS.configuration, blasThreads: BLAS.threads,
            blasThreadsVariable: variable?.isEmpty == false ? variable : nil, ranks: ranks, host: hostName(),
            cpuModel: cpu.model, cpuCores: cpu.cores, os: operatingSystem())
    }

    /// The first `model name` (or, on ARM, `Hardware`/`CPU part`) and the number of `processor` entries.
    static func cpuInfo(path: String) -> (model: String, cores: Int) {
        let fallbackCores = ProcessInfo.processInfo.activeProcessorCount
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ("unknown", fallbackCores) }
        var model: String?
        var cores = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if key == "processor" { cores += 1 }
            if model == nil, ["model name", "Hardware", "Model"].contains(key), !value.isEmpty { model = value }
        }
        return (model ?? "unknown", cores > 0 ? cores : fallbackCores)
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        let name = String(cString: buffer)
        return name.isEmpty ? "unknown" : name
    }

    /// `PRETTY_NAME` of /etc/os-release with the kernel's name and release (`uname`).
    static func operatingSystem() -> String {
        var kernel = "unknown"
        var names = utsname()
        if uname(&names) == 0 {
            let system = withUnsafeBytes(of: &names.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            kernel = "\(system) \(release)"
        }
        guard let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
            let line = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
        else { return kernel }
        let pretty = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        return pretty.isEmpty ? kernel : "\(pretty), \(kernel)"
    }
}
