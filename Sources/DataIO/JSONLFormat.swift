/// Field names used when reading JSON Lines.
public struct JSONLOptions: Sendable, Equatable {
    /// Field holding the sample id (string or integer); missing → `member#index`.
    public var idField: String?
    /// Field holding the text.
    public var textField: String?
    /// Field holding the label (integer class index, or a class name string).
    public var labelField: String?
    /// Field holding a numeric array; nil = `pixels` or else `features` when present.
    public var featuresField: String?
    /// Field holding weak labels (integers, `-1` = abstain).
    public var weakLabelsField: String?

    /// Memberwise initialiser; see the properties for meanings and defaults.
    public init(
        idField: String? = "id", textField: String? = "text", labelField: String? = "label",
        featuresField: String? = nil, weakLabelsField: String? = "weak_labels"
    ) {
        self.idField = idField
        self.textField = textField
        self.labelField = labelField
        self.featuresField = featuresField
        self.weakLabelsField = weakLabelsField
    }
}

/// A label as found in the source, before class names are resolved.
enum RawLabel: Sendable, Equatable {
    case index(Int)
    case name(String)
}

/// Records read from one member, with labels not yet resolved and each record's source byte range.
struct RawSplit {
    var name: String
    var member: String
    var records: [DataRecord]
    var labels: [RawLabel?]
    var ranges: [Range<Int>]
    var hasIntrinsicIDs: Bool
}

/// Reader for JSON Lines (one object per line; blank lines are skipped).
public enum JSONLFormat {
    /// Reads one JSONL member into a split; string labels become indices into sorted class names.
    public static func read(
        _ bytes: [UInt8], member: String, file: String,
        options: JSONLOptions = .init()
    ) throws -> (split: LabeledSplit, classNames: [String]) {
        let raw = try readRaw(bytes, member: member, file: file, options: options)
        let resolver = try LabelResolver(splits: [raw], fixedNames: nil)
        return (try resolver.resolve(raw, file: file), resolver.classNames)
    }

    /// Calls `body` with the byte range and 1-based line number of every non-blank line.
    static func forEachLine(_ buffer: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, Int) throws -> Void) rethrows {
        var start = 0, line = 1
        let n = buffer.count
        while start < n {
            var end = start
            while end < n && buffer[end] != 0x0a { end += 1 }
            var stop = end
            if stop > start && buffer[stop - 1] == 0x0d { stop -= 1 }
            var k = start
            while k < stop && (buffer[k] == 0x20 || buffer[k] == 0x09) { k += 1 }
            if k < stop { try body(start..<stop, line) }
            start = end + 1
            line += 1
        }
    }

    static func readRaw(_ bytes: [UInt8], member: String, file: String, options: JSONLOptions) throws -> RawSplit {
        var split = RawSplit(
            name: baseName(member), member: member, records: [], labels: [], ranges: [],
            hasIntrinsicIDs: true)
        var seen = Set<String>()
        var featureLength: Int?
        try bytes.withUnsafeBufferPointer { buf in
            try forEachLine(buf) { range, line in
                let value = try JSONParser.parse(buf, range: range, source: file)
                guard let obj = value.objectValue else {
                    throw DataIOError.badField(
                        file: file, line: line, id: nil, key: "(line)",
                        reason: "expected a JSON object, found \(value.typeName)")
                }
                let index = split.records.count
                var record = DataRecord(id: positionalID(member: member, index: index))
                var label: RawLabel?
                var usedKeys = Set<String>()
                if let f = options.idField, let v = obj[f] {
                    usedKeys.insert(f)
                    if let s = v.stringValue {
                        record.id = s
                    } else if let i = v.intValue {
                        record.id = String(i)
                    } else {
                        throw DataIOError.badField(file: file, line: line, id: nil, key: f, reason: "id must be a string or integer")
                    }
                } else {
                    split.hasIntrinsicIDs = false
                }
                guard seen.insert(record.id).inserted else { throw DataIOError.duplicateID(file: file, id: record.id) }
                if let f = options.textField, let v = obj[f] {
                    usedKeys.insert(f)
                    guard let s = v.stringValue else {
                        throw DataIOError.badField(
                            file: file, line: line, id: record.id, key: f, reason: "expected a string, found \(v.typeName)")
                    }
                    record.text = s
                }
                if let f = options.labelField, let v = obj[f] {
                    usedKeys.insert(f)
                    if let i = v.intValue {
                        label = .index(i)
                    } else if let s = v.stringValue {
                        label = .name(s)
                    } else if v != .null {
                        throw DataIOError.badField(
                            file: file, line: line, id: record.id, key: f, reason: "expected an integer or string label")
                    }
                }
                let featureKey = options.featuresField ?? (obj["pixels"] != nil ? "pixels" : "features")
                if let v = obj[featureKey] {
                    usedKeys.insert(featureKey)
                    guard let arr = v.arrayValue else {
                        throw DataIOError.badField(
                            file: file, line: line, id: record.id, key: featureKey, reason: "expected an array of numbers")
                    }
                    var feats = [Float]()
                    feats.reserveCapacity(arr.count)
                    for x in arr {
                        guard let d = x.doubleValue else {
                            throw DataIOError.badField(
                                file: file, line: line, id: record.id, key: featureKey,
                                reason: "expected numbers, found \(x.typeName)")
                        }
                        guard Float(d).isFinite else {
                            throw DataIOError.badField(
                                file: file, line: line, id: record.id, key: featureKey,
                                reason: "\(d) is not a finite 32-bit number")
                        }
                        feats.append(Float(d))
                    }
                    if let n = featureLength, n != feats.count {
                        throw DataIOError.featureLengthMismatch(file: "\(file):\(line)", id: record.id, expected: n, actual: feats.count)
                    }
                    featureLength = feats.count
                    record.features = feats
                }
                if let f = options.weakLabelsField, let v = obj[f] {
                    usedKeys.insert(f)
                    guard let arr = v.arrayValue else {
                        throw DataIOError.badField(file: file, line: line, id: record.id, key: f, reason: "expected an array of integers")
                    }
                    record.weakLabels = try arr.map { w in
                        guard let i = w.intValue else {
                            throw DataIOError.badField(
                                file: file, line: line, id: record.id, key: f, reason: "weak labels must be integers")
                        }
                        return i
                    }
                }
                for (k, v) in obj where !usedKeys.contains(k) { record.extra[k] = v }
                split.records.append(record)
                split.labels.append(label)
                split.ranges.append(range)
            }
        }
        return split
    }
}

/// Plain-text corpora: one document per non-blank line (use ``JSONLFormat`` for JSONL text fields).
public enum TextCorpusFormat {
    /// Reads one document per non-blank line (trailing `\r` removed); ids are `member#index`.
    public static func read(_ bytes: [UInt8], member: String) -> LabeledSplit {
        raw(bytes, member: member).toSplit()
    }

    static func raw(_ bytes: [UInt8], member: String) -> RawSplit {
        var split = RawSplit(
            name: baseName(member), member: member, records: [], labels: [], ranges: [],
            hasIntrinsicIDs: false)
        bytes.withUnsafeBufferPointer { buf in
            JSONLFormat.forEachLine(buf) { range, _ in
                let text = String(decoding: UnsafeBufferPointer(rebasing: buf[range]), as: UTF8.self)
                split.records.append(DataRecord(id: positionalID(member: member, index: split.records.count), text: text))
                split.labels.append(nil)
                split.ranges.append(range)
            }
        }
        return split
    }
}

extension RawSplit {
    /// The split without label resolution (for unlabeled data).
    func toSplit() -> LabeledSplit {
        LabeledSplit(name: name, member: member, records: records, hasIntrinsicIDs: hasIntrinsicIDs)
    }
}

/// Maps raw labels to class indices: integers as they are (class names `"0"..."k-1"` unless given),
/// strings to their index in the sorted set of names seen (or in `fixedNames`, e.g. from `label.json`).
struct LabelResolver {
    let classNames: [String]
    private let byName: [String: Int]
    private let fixed: Bool

    init(splits: [RawSplit], fixedNames: [String]?) throws {
        if let fixedNames {
            classNames = fixedNames
            fixed = true
        } else {
            var names = Set<String>()
            var maxIndex = -1
            for s in splits {
                for l in s.labels {
                    switch l {
                    case let .name(n)?: names.insert(n)
                    case let .index(i)?: maxIndex = max(maxIndex, i)
                    case nil: break
                    }
                }
            }
            classNames = names.isEmpty ? (0..<(maxIndex + 1)).map(String.init) : names.sorted()
            fixed = false
        }
        var map: [String: Int] = [:]
        for (i, n) in classNames.enumerated() { map[n] = i }
        byName = map
    }

    func resolve(_ raw: RawSplit, file: String) throws -> LabeledSplit {
        var split = raw.toSplit()
        let numeric = fixed || !classNames.contains { Int($0) == nil }
        for (i, l) in raw.labels.enumerated() {
            switch l {
            case nil: continue
            case let .index(k):
                guard numeric || byName[String(k)] != nil else {
                    throw DataIOError.unknownLabel(file: file, id: raw.records[i].id, label: k, classCount: classNames.count)
                }
                guard k >= 0 && k < classNames.count else {
                    throw DataIOError.unknownLabel(file: file, id: raw.records[i].id, label: k, classCount: classNames.count)
                }
                split.records[i].label = numeric ? k : byName[String(k)]
            case let .name(n):
                guard let k = byName[n] else {
                    throw DataIOError.badField(
                        file: file, line: nil, id: raw.records[i].id, key: "label",
                        reason: "label '\(n)' is not one of the class names")
                }
                split.records[i].label = k
            }
        }
        for r in split.records {
            for w in r.weakLabels ?? [] where w < -1 || w >= classNames.count {
                throw DataIOError.unknownLabel(file: file, id: r.id, label: w, classCount: classNames.count)
            }
        }
        return split
    }
}
