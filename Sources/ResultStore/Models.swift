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

    public init(application: String, recipe: String, recipePath: String? = nil, codeRevision: String = "unknown", seed: UInt64) {
        self.application = application
        self.recipe = recipe
        self.recipePath = recipePath
        self.codeRevision = codeRevision
        self.seed = seed
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

public struct SampleScore: Sendable, Equatable {
    public var sampleID: Int
    public var score: Double
    /// The sample's registered key; nil when the run registered no samples.
    public var key: String?
    public init(sampleID: Int, score: Double, key: String? = nil) {
        self.sampleID = sampleID
        self.score = score
        self.key = key
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
