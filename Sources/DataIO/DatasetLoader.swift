import Foundation

extension Dataset {
    /// Loads a dataset from an archive, a single (possibly compressed) file or a directory.
    ///
    /// The format is `options.format` or detected from member names (see ``detectFormat(memberPaths:)``).
    /// JSONL/CSV/text: every `.jsonl`/`.csv`/`.txt` member is one split named after the file
    /// (`train.jsonl` → `train`). IDX: each `*-images-idx3-ubyte[.gz]` is paired with its
    /// `*-labels-idx1-ubyte[.gz]` (`t10k` becomes `test`). A `label.json` member, if present, gives
    /// class names for any format. A `<member>.ids` member (one id per line, written by
    /// ``DatasetExporter``) replaces positional ids.
    public static func load(path: String, options: DatasetOptions = .init()) throws -> Dataset {
        let source = try ArchiveSource(path: path)
        let members = try source.members().map(\.path)
        guard let format = options.format ?? detectFormat(memberPaths: members) else {
            throw DataIOError.unknownFormat(
                path: path, reason: "no label.json/train.json, IDX, .jsonl, .csv or .txt member among \(members.count) members")
        }
        if format == .wrench { return try WRENCHFormat.load(source: source, options: options) }

        let forced = options.format != nil
        let wanted: [String]
        switch format {
        case .idx: wanted = members.filter { $0.contains("images-idx3-ubyte") && !$0.hasSuffix(".ids") }
        case .jsonl: wanted = dataMembers(members, extensions: [".jsonl", ".ndjson"], forced: forced)
        case .csv: wanted = dataMembers(members, extensions: [".csv"], forced: forced)
        case .text: wanted = dataMembers(members, extensions: [".txt"], forced: forced)
        case .wrench: wanted = []
        }
        guard !wanted.isEmpty else {
            throw DataIOError.unknownFormat(path: path, reason: "no member holds \(format.rawValue) data")
        }
        var needed = Set(wanted)
        var labelsFor: [String: String] = [:]
        if format == .idx {
            for m in wanted {
                guard let l = IDXFormat.labelsName(forImages: m),
                    let found = [l, l + ".gz", l.hasSuffix(".gz") ? String(l.dropLast(3)) : l].first(where: members.contains)
                else {
                    throw DataIOError.memberNotFound(archive: path, member: IDXFormat.labelsName(forImages: m) ?? m)
                }
                labelsFor[m] = found
                needed.insert(found)
            }
        }
        var bytes: [String: [UInt8]] = [:]
        try source.forEachMember { p, b in
            if needed.contains(p) || p.hasSuffix(".ids") || p.split(separator: "/").last == "label.json" { bytes[p] = b }
        }
        let single = try source.isSingleFile()
        func file(_ m: String) -> String { single ? path : "\(path):\(m)" }
        func sidecar(_ m: String) -> [String]? {
            guard let b = bytes[m + ".ids"] else { return nil }
            return String(decoding: b, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        }
        let labelJSON = bytes.first { $0.key.split(separator: "/").last == "label.json" }
        let fixedNames = try labelJSON.map { try WRENCHFormat.parseLabelNames($0.value, file: file($0.key)) }

        if format == .idx {
            var splits: [LabeledSplit] = []
            var maxLabel = -1
            for m in wanted {
                guard let lm = labelsFor[m] else { continue }
                let split = try IDXFormat.split(
                    name: IDXFormat.splitName(forImages: m),
                    images: try IDXFormat.parse(bytes[m] ?? [], file: file(m)), imagesMember: m,
                    labels: try IDXFormat.parse(bytes[lm] ?? [], file: file(lm)), labelsMember: lm,
                    ids: sidecar(m))
                for r in split.records { maxLabel = max(maxLabel, r.label ?? -1) }
                splits.append(split)
            }
            let names = fixedNames ?? (0...max(maxLabel, 0)).map(String.init)
            for s in splits {
                for r in s.records where (r.label ?? 0) >= names.count {
                    throw DataIOError.unknownLabel(
                        file: file(s.labelsMember ?? s.member), id: r.id, label: r.label ?? -1, classCount: names.count)
                }
            }
            return Dataset(name: baseName(path), sourcePath: path, format: .idx, classNames: names, splits: splits, options: options)
        }

        var raws: [RawSplit] = []
        for m in wanted {
            let b = bytes[m] ?? []
            var raw: RawSplit
            switch format {
            case .jsonl: raw = try JSONLFormat.readRaw(b, member: m, file: file(m), options: options.jsonl)
            case .csv: raw = try CSVFormat.readRaw(b, member: m, file: file(m), options: options.csv)
            default: raw = TextCorpusFormat.raw(b, member: m)
            }
            guard !raw.records.isEmpty else { throw DataIOError.emptySplit(file: file(m), split: raw.name) }
            if let ids = sidecar(m) {
                guard ids.count == raw.records.count else {
                    throw DataIOError.badField(
                        file: file(m + ".ids"), line: nil, id: nil, key: "ids",
                        reason: "\(ids.count) ids for \(raw.records.count) records")
                }
                for k in ids.indices { raw.records[k].id = ids[k] }
            }
            raws.append(raw)
        }
        let resolver = try LabelResolver(splits: raws, fixedNames: fixedNames)
        let splits = try raws.map { try resolver.resolve($0, file: file($0.member)) }
        let labeled = splits.contains { s in s.records.contains { $0.label != nil } }
        return Dataset(
            name: baseName(path), sourcePath: path, format: format,
            classNames: labeled ? resolver.classNames : (fixedNames ?? []), splits: splits, options: options)
    }

    /// Guesses the format from member paths: WRENCH (`label.json` or `train/valid/test.json`), IDX
    /// (`*idx3-ubyte*`), JSONL (`.jsonl`), CSV (`.csv`), text (`.txt`); nil if none applies.
    public static func detectFormat(memberPaths: [String]) -> DatasetFormat? {
        let files = memberPaths.map { String($0.split(separator: "/").last ?? "") }
        if files.contains(where: { f in WRENCHFormat.splitNames.contains { f == "\($0).json" } }) { return .wrench }
        if files.contains(where: { $0.contains("idx3-ubyte") }) { return .idx }
        if files.contains(where: { $0.hasSuffix(".jsonl") || $0.hasSuffix(".ndjson") }) { return .jsonl }
        if files.contains(where: { $0.hasSuffix(".csv") }) { return .csv }
        if files.contains(where: { $0.hasSuffix(".txt") }) { return .text }
        return nil
    }

    private static func dataMembers(_ members: [String], extensions: [String], forced: Bool) -> [String] {
        let matching = members.filter { m in extensions.contains { m.hasSuffix($0) } }
        if !matching.isEmpty || !forced { return matching }
        return members.filter { !$0.hasSuffix(".ids") && $0.split(separator: "/").last != "label.json" && !$0.hasSuffix("README.md") }
    }
}
