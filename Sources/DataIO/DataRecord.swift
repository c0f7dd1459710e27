/// One sample of any supported format.
public struct DataRecord: Sendable, Equatable {
    /// Stable sample id: the dataset's own id, else `member#index` (0-based, `.gz` stripped from member).
    public var id: String
    /// Text input, if any.
    public var text: String?
    /// Numeric input (pixels, features), if any.
    public var features: [Float]?
    /// Gold label (class index), if any.
    public var label: Int?
    /// Weak labels, one per labeling function, `-1` = abstain (WRENCH).
    public var weakLabels: [Int]?
    /// Other fields of the source record, by key.
    public var extra: [String: JSONValue]

    /// Memberwise initialiser; see the properties for meanings and defaults.
    public init(
        id: String, text: String? = nil, features: [Float]? = nil, label: Int? = nil,
        weakLabels: [Int]? = nil, extra: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.text = text
        self.features = features
        self.label = label
        self.weakLabels = weakLabels
        self.extra = extra
    }
}

/// The on-disk format of a dataset.
public enum DatasetFormat: String, Sendable, Codable, CaseIterable {
    /// WRENCH weak supervision: `{train,valid,test}.json` keyed by id, plus `label.json`.
    case wrench
    /// One JSON object per line.
    case jsonl
    /// Comma-separated values with a header row.
    case csv
    /// MNIST-style IDX images + labels pairs.
    case idx
    /// Plain text, one document per line.
    case text
}

/// A named split (train/valid/test/...) of a dataset.
public struct LabeledSplit: Sendable {
    /// Split name (`train`, `valid`, `test`, or the member's base name).
    public var name: String
    /// The archive member the records were read from (the images file for IDX).
    public var member: String
    /// The labels member for IDX splits.
    public var labelsMember: String?
    /// Records in source order.
    public var records: [DataRecord]
    /// False when ids are positional (`member#index`) or came from an `.ids` sidecar written by export.
    public var hasIntrinsicIDs: Bool

    /// Memberwise initialiser; see the properties for meanings and defaults.
    public init(
        name: String, member: String, labelsMember: String? = nil, records: [DataRecord],
        hasIntrinsicIDs: Bool
    ) {
        self.name = name
        self.member = member
        self.labelsMember = labelsMember
        self.records = records
        self.hasIntrinsicIDs = hasIntrinsicIDs
    }

    /// Number of records.
    public var count: Int { records.count }
    /// Record ids in order.
    public var ids: [String] { records.map(\.id) }
    /// True if any record carries weak labels.
    public var hasWeakLabels: Bool { records.contains { $0.weakLabels != nil } }

    /// Records per gold class (index = class; records without a label are not counted).
    public func classCounts(classCount: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for r in records { if let l = r.label, l >= 0, l < classCount { counts[l] += 1 } }
        return counts
    }
}

/// A dataset: named splits, class names and where it came from (needed to export a pruned copy).
public struct Dataset: Sendable {
    /// Display name (the archive's base name).
    public var name: String
    /// The source archive, file or directory.
    public var sourcePath: String
    /// The detected or requested format.
    public var format: DatasetFormat
    /// Class names by index (from `label.json`, string labels, or `"0"..."k-1"`); empty if unlabeled.
    public var classNames: [String]
    /// Splits in a stable order (train, valid, test, then others by name).
    public var splits: [LabeledSplit]
    /// The options the dataset was read with.
    public var options: DatasetOptions

    /// Memberwise initialiser; see the properties for meanings and defaults.
    public init(
        name: String, sourcePath: String, format: DatasetFormat, classNames: [String],
        splits: [LabeledSplit], options: DatasetOptions
    ) {
        self.name = name
        self.sourcePath = sourcePath
        self.format = format
        self.classNames = classNames
        self.splits = Dataset.ordered(splits)
        self.options = options
    }

    /// The split called `name`, if present.
    public subscript(split name: String) -> LabeledSplit? { splits.first { $0.name == name } }

    /// Split names in order.
    public var splitNames: [String] { splits.map(\.name) }

    /// Number of classes.
    public var classCount: Int { classNames.count }

    /// Majority vote over the weak labels of split `name` (nil if the split is missing, has no weak
    /// labels, or the dataset has no classes); `policy` defaults to `options.tiePolicy`.
    public func majorityVote(split name: String, policy: TiePolicy? = nil) -> MajorityVoteResult? {
        guard let s = self[split: name], s.hasWeakLabels, classCount > 0 else { return nil }
        return MajorityVote(classCount: classCount, policy: policy ?? options.tiePolicy).apply(to: s)
    }

    static func ordered(_ splits: [LabeledSplit]) -> [LabeledSplit] {
        let rank = ["train": 0, "valid": 1, "validation": 1, "dev": 1, "test": 2]
        return splits.sorted { a, b in
            let ra = rank[a.name] ?? 3, rb = rank[b.name] ?? 3
            return ra != rb ? ra < rb : a.name < b.name
        }
    }
}

/// Options that control how datasets are read. Defaults suit the bundled data.
public struct DatasetOptions: Sendable, Equatable {
    /// Force a format instead of detecting it.
    public var format: DatasetFormat?
    /// Field names for JSONL.
    public var jsonl: JSONLOptions
    /// Column choices for CSV.
    public var csv: CSVOptions
    /// Policy for majority-vote ties and all-abstain samples (WRENCH).
    public var tiePolicy: TiePolicy

    /// Memberwise initialiser; see the properties for meanings and defaults.
    public init(
        format: DatasetFormat? = nil, jsonl: JSONLOptions = .init(), csv: CSVOptions = .init(),
        tiePolicy: TiePolicy = .uniformSoft
    ) {
        self.format = format
        self.jsonl = jsonl
        self.csv = csv
        self.tiePolicy = tiePolicy
    }
}

/// Positional id of the `index`-th record of a member: `member#index` with a `.gz` suffix dropped.
func positionalID(member: String, index: Int) -> String {
    var base = member
    if base.hasSuffix(".gz") { base.removeLast(3) }
    return "\(base)#\(index)"
}

/// The file name of `path` without directories and without its last extension.
func baseName(_ path: String) -> String {
    var name = String(path.split(separator: "/").last ?? Substring(path))
    if name.hasSuffix(".gz") { name.removeLast(3) }
    if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
    return name
}
