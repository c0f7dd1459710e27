/// Reader for the WRENCH weak-supervision layout: `train.json`, `valid.json`, `test.json` (objects
/// keyed by id → `{"label": int, "weak_labels": [int], "data": {"text": ...}}`) and `label.json`
/// (`{"0": "name", ...}`), located anywhere in the archive (e.g. under `rt-sentiment/`).
public enum WRENCHFormat {
    /// Split file base names recognised, in order.
    public static let splitNames = ["train", "valid", "test"]

    /// True if a member path names a WRENCH file (`label.json` or a split file).
    public static func isWRENCHMember(_ path: String) -> Bool {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        return file == "label.json" || splitNames.contains { file == "\($0).json" }
    }

    /// Loads every split found in `source`. `label.json` is required; at least one split must exist.
    public static func load(source: ArchiveSource, options: DatasetOptions = .init()) throws -> Dataset {
        var files: [String: (member: String, bytes: [UInt8])] = [:]
        try source.forEachMember(matching: "**/*.json") { path, bytes in
            let file = String(path.split(separator: "/").last ?? "")
            if isWRENCHMember(path), files[file] == nil { files[file] = (path, bytes) }
        }
        guard let labelFile = files["label.json"] else {
            throw DataIOError.noMatchingMembers(archive: source.path, pattern: "**/label.json")
        }
        let classNames = try parseLabelNames(labelFile.bytes, file: "\(source.path):\(labelFile.member)")
        var splits: [LabeledSplit] = []
        for name in splitNames {
            guard let f = files["\(name).json"] else { continue }
            splits.append(
                try parseSplit(
                    f.bytes, name: name, member: f.member,
                    file: "\(source.path):\(f.member)", classCount: classNames.count))
        }
        guard !splits.isEmpty else {
            throw DataIOError.noMatchingMembers(archive: source.path, pattern: "**/{train,valid,test}.json")
        }
        return Dataset(
            name: baseName(source.path), sourcePath: source.path, format: .wrench,
            classNames: classNames, splits: splits, options: options)
    }

    /// Parses `label.json`: keys must be the integers `0..<k`.
    public static func parseLabelNames(_ bytes: [UInt8], file: String) throws -> [String] {
        guard let obj = try JSONParser.parse(bytes, source: file).objectValue else {
            throw DataIOError.badField(file: file, line: nil, id: nil, key: "(root)", reason: "expected an object")
        }
        var names = [String?](repeating: nil, count: obj.count)
        for (key, value) in obj {
            guard let k = Int(key), k >= 0, k < obj.count, names[k] == nil else {
                throw DataIOError.badField(
                    file: file, line: nil, id: nil, key: key,
                    reason: "class keys must be the integers 0..<\(obj.count), each once")
            }
            guard let name = value.stringValue else {
                throw DataIOError.badField(file: file, line: nil, id: nil, key: key, reason: "class name must be a string")
            }
            names[k] = name
        }
        return names.map { $0 ?? "" }
    }

    /// Parses one split file. Gold and weak labels must lie in `0..<classCount` (`-1` = abstain for weak labels).
    public static func parseSplit(
        _ bytes: [UInt8], name: String, member: String, file: String,
        classCount: Int
    ) throws -> LabeledSplit {
        guard let obj = try JSONParser.parse(bytes, source: file).objectValue else {
            throw DataIOError.badField(file: file, line: nil, id: nil, key: "(root)", reason: "expected an object keyed by sample id")
        }
        guard obj.count > 0 else { throw DataIOError.emptySplit(file: file, split: name) }
        var records: [DataRecord] = []
        records.reserveCapacity(obj.count)
        var seen = Set<String>()
        var lfCount: Int?
        for (id, value) in obj {
            guard seen.insert(id).inserted else { throw DataIOError.duplicateID(file: file, id: id) }
            guard let entry = value.objectValue else {
                throw DataIOError.badField(file: file, line: nil, id: id, key: id, reason: "expected an object, found \(value.typeName)")
            }
            var record = DataRecord(id: id)
            for (key, v) in entry {
                switch key {
                case "label":
                    if case .null = v { continue }
                    guard let l = v.intValue else {
                        throw DataIOError.badField(
                            file: file, line: nil, id: id, key: key, reason: "expected an integer, found \(v.typeName)")
                    }
                    guard l >= 0 && l < classCount else {
                        throw DataIOError.unknownLabel(file: file, id: id, label: l, classCount: classCount)
                    }
                    record.label = l
                case "weak_labels":
                    guard let arr = v.arrayValue else {
                        throw DataIOError.badField(
                            file: file, line: nil, id: id, key: key, reason: "expected an array, found \(v.typeName)")
                    }
                    var weak: [Int] = []
                    weak.reserveCapacity(arr.count)
                    for w in arr {
                        guard let l = w.intValue else {
                            throw DataIOError.badField(file: file, line: nil, id: id, key: key, reason: "weak labels must be integers")
                        }
                        guard l >= -1 && l < classCount else {
                            throw DataIOError.unknownLabel(file: file, id: id, label: l, classCount: classCount)
                        }
                        weak.append(l)
                    }
                    if let n = lfCount, n != weak.count {
                        throw DataIOError.badField(
                            file: file, line: nil, id: id, key: key,
                            reason: "expected \(n) weak labels (as for earlier samples), found \(weak.count)")
                    }
                    lfCount = weak.count
                    record.weakLabels = weak
                case "data":
                    guard let data = v.objectValue else {
                        record.extra[key] = v
                        continue
                    }
                    for (dk, dv) in data {
                        if dk == "text", let t = dv.stringValue { record.text = t } else { record.extra[dk] = dv }
                    }
                default:
                    record.extra[key] = v
                }
            }
            records.append(record)
        }
        return LabeledSplit(name: name, member: member, records: records, hasIntrinsicIDs: true)
    }

    /// Rewrites a split file keeping only the entries whose id is in `kept` (order and content unchanged).
    static func filterSplit(_ bytes: [UInt8], file: String, kept: Set<String>) throws -> [UInt8] {
        guard case let .object(obj) = try JSONParser.parse(bytes, source: file) else {
            throw DataIOError.badField(file: file, line: nil, id: nil, key: "(root)", reason: "expected an object keyed by sample id")
        }
        var out = JSONObject()
        for (k, v) in obj where kept.contains(k) { out.append(k, v) }
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count)
        JSONValue.object(out).write(to: &text)
        return text
    }
}
