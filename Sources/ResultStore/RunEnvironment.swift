import Foundation

/// Where a run ran, captured by the process that started it (schema v5, `runs.environment` as a JSON object):
/// what a report must describe, rather than the machine that reads it. The code revision is `runs.code_revision`.
public struct RunEnvironment: Sendable, Equatable, Codable {
    /// `winnow --version` of the binary that ran.
    public var winnowVersion: String
    /// The BLAS library as it describes itself (`openblas_get_config`).
    public var blas: String
    /// The number of threads BLAS ran with (`openblas_get_num_threads`).
    public var blasThreads: Int
    /// `OPENBLAS_NUM_THREADS` as set when the run started (nil: unset).
    public var blasThreadsVariable: String?
    /// MPI ranks (1 without mpirun); the other fields describe rank 0.
    public var ranks: Int
    /// The host name (`gethostname`).
    public var host: String
    /// The first `model name` of /proc/cpuinfo ("unknown" when it cannot be read).
    public var cpuModel: String
    /// Logical processors (`processor` entries of /proc/cpuinfo).
    public var cpuCores: Int
    /// The distribution's name and the kernel release, e.g. "Debian GNU/Linux 12 (bookworm), Linux 6.1.0".
    public var os: String

    /// An environment from its parts (`RunEnvironment.current(ranks:)` in Runtime reads this process's).
    public init(
        winnowVersion: String, blas: String, blasThreads: Int, blasThreadsVariable: String? = nil, ranks: Int,
        host: String, cpuModel: String, cpuCores: Int, os: String
    ) {
        self.winnowVersion = winnowVersion
        self.blas = blas
        self.blasThreads = blasThreads
        self.blasThreadsVariable = blasThreadsVariable
        self.ranks = ranks
        self.host = host
        self.cpuModel = cpuModel
        self.cpuCores = cpuCores
        self.os = os
    }

    enum CodingKeys: String, CodingKey {
        case winnowVersion = "winnow_version", blas, blasThreads = "blas_threads"
        case blasThreadsVariable = "openblas_num_threads", ranks = "mpi_ranks", host, cpuModel = "cpu_model"
        case cpuCores = "cpu_cores", os
    }

    /// The JSON object stored in `runs.environment` (keys sorted).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and integers cannot fail.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Decodes `runs.environment`; nil for NULL (a run recorded before schema v5) or text it cannot read.
    public static func decode(_ text: String?) -> RunEnvironment? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(RunEnvironment.self, from: Data(text.utf8))
    }

    /// Label and value pairs, as `winnow show` and `winnow report` print them.
    public var facts: [(String, String)] {
        let threads = "\(blasThreads) thread\(blasThreads == 1 ? "" : "s")"
        return [
            ("winnow", winnowVersion),
            ("BLAS", "\(blas), \(threads)" + (blasThreadsVariable.map { " (OPENBLAS_NUM_THREADS=\($0))" } ?? "")),
            ("MPI ranks", "\(ranks)"), ("host", host), ("CPU", "\(cpuModel), \(cpuCores) logical core\(cpuCores == 1 ? "" : "s")"),
            ("OS", os),
        ]
    }
}

extension RunInfo {
    /// The environment facts with the code revision; for runs from before schema v5, the code revision and
    /// `environment: not recorded`.
    public var environmentFacts: [(String, String)] {
        guard let environment else {
            return [("code revision", codeRevision), ("environment", "not recorded (run from before schema v5)")]
        }
        var facts = environment.facts
        facts.insert(("code revision", codeRevision), at: 1)
        return facts
    }
}
