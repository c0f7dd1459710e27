/// Rows and summaries returned by the store's queries.

public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, completed, failed
}

/// What a run is: written when it begins.
public struct RunDescriptor: Sendable {
    public var application: String
    /// The effective recipe (after defaults and `--set` overrides), as YAML.
    public var recipe: String
    public var recipePath: String?
    /// `git describe` output, or "unknown".
    public var codeRevision: String
    public var seed: UInt64
    /// Where the run runs (nil: not recorded).
    public var environment: RunEnvironment?

    public init(
        application: String, recipe: String, recipePath: String? = nil, codeRevision: String = "unknown", seed: UInt64,
        environment: RunEnvironment? = nil
    ) {
        self.application = application
        self.recipe = recipe
        self.recipePath = recipePath
        self.codeRevision = codeRevision
        self.seed = seed
        self.environment = environment
    }
}

public struct RunInfo: Sendable, Equatable {
    public var id: Int64
    public var application: String
    public var recipe: String
    public var recipePath: String?
    public var codeRevision: String
    public var seed: UInt64
    public var startedAt: String
    public var endedAt: String?
    public var status: RunStatus
    /// Final metrics (empty until the run completes).
    public var metrics: [String: Double]
    public var notes: [String]
    /// Why the run failed, when it did.
    public var error: String?
    /// Where it ran, as recorded when it started; nil for runs recorded before schema v5.
    public var environment: RunEnvironment?
}

public struct SampleWeight: Sendable, Equatable {
    public var step: Int
    public var sampleID: Int
    public var weight: Double
    /// The sample's registered key (its dataset id); nil when the run registered no samples.
    public var key: String?
    public init(step: Int, sampleID: Int, weight: Double, key: String? = nil) {
        self.step = step
        self.sampleID = sampleID
        self.weight = weight
        self.key = key
    }
}

public struct WeightHistogram: Sendable, Equatable {
    public struct Bin: Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: Int
    }
    public var step: Int
    public var count: Int
    public var minimum: Double
    public var maximum: Double
    public var mean: Double
    public var bins: [Bin]
}

/// One sample's label before and after correction.
public struct CorrectedLabel: Sendable, Equatable {
    public var sampleID: Int
    /// The weak (noisy) label; nil when the weak sources abstained.
    public var originalLabel: Int?
    /// The argmax of the corrected distribution.
    public var correctedLabel: Int
    /// The corrected label distribution, when recorded.
    public var distribution: [Float]?
    /// The sample's registered key (filled in by queries; ignored when recording).
    public var key: String?

    public var isChanged: Bool { originalLabel != correctedLabel }

    public init(sampleID: Int, originalLabel: Int?, correctedLabel: Int, distribution: [Float]? = nil, key: String? = nil) {
        self.sampleID = sampleID
        self.originalLabel = originalLabel
        self.correctedLabel = correctedLabel
        self.distribution = distribution
        self.key = key
    }
}

/// One sample's pruning score under a name at a step.
public struct SampleScore: Sendable, Equatable {
    public var sampleID: Int
    public var score: Double
    /// The sample's registered key; nil when the run registered no samples.
    public var key: String?
    /// The score's name (`el2n`, `forgetting`, ...; `score` for rows written before names existed).
    public var name: String
    /// The step the score was recorded at.
    public var step: Int
    public init(sampleID: Int, score: Double, key: String? = nil, name: String = ScoreName.legacy, step: Int = 0) {
        self.sampleID = sampleID
        self.score = score
        self.key = key
        self.name = name
        self.step = step
    }
}

/// Names of pruning scores: which are allowed, and the one rows from before schema v3 carry.
public enum ScoreName {
    /// The name of scores recorded without one (and of every row migrated from schema v2).
    public static let legacy = "score"
    /// Reserved: manifests rank by importance weights under this name.
    public static let reserved = "weight"
    /// Noisy-label runs: each sample's running mean probability of its training label (1 − it is the label-issue score).
    public static let labelQuality = "label_quality"

    /// Throws unless `name` is 1…64 characters of `a-z`, `0-9`, `_`, `-`, `.` and is not `weight`.
    public static func validate(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-.")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy(allowed.contains) else {
            throw StoreError.invalidArgument(
                "pruning score name '\(name)': use 1 to 64 characters of a-z, 0-9, '_', '-' and '.'")
        }
        guard name != reserved else {
            throw StoreError.invalidArgument("pruning score name 'weight' is reserved for importance weights; choose another")
        }
    }
}

public struct MetricPoint: Sendable, Equatable {
    public var name: String
    public var step: Int
    public var value: Double?
}

public struct CheckpointInfo: Sendable, Equatable {
    public var id: Int64
    public var step: Int
    public var path: String?
    public var byteCount: Int
    public var createdAt: String
}
