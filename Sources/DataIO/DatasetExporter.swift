/// What an export wrote.
public struct ExportSummary: Sendable, Codable, Equatable {
    /// The archive written.
    public var output: String
    /// Splits that were pruned.
    public var prunedSplits: [String]
    /// Records kept per pruned split.
    public var kept: [String: Int]
    /// Records before pruning per pruned split.
    public var total: [String: Int]
    /// Requested ids that are not in any pruned split (ignored).
    public var unknownIDCount: Int
}

/// Writes a pruned copy of a dataset as a new archive in the source's format.
public enum DatasetExporter {
    /// Writes `output` (in the format its name ends with: see ``ArchiveWriter/Kind/supportedExtensions``; any
    /// other name is refused with ``DataIOError/unsupportedArchiveName(path:supported:)`` before anything is read)
    /// holding the source's members, with the pruned splits reduced to the records whose ids are in `kept`.
    ///
    /// - WRENCH: the pruned split files keep only kept ids (same entries, same order); `label.json`
    ///   and other members are copied unchanged.
    /// - JSONL / text: only the kept lines, byte for byte. CSV: the header plus the kept rows.
    /// - IDX: rewritten uncompressed images and labels files (member name without `.gz`).
    /// - Where ids are positional (`member#index`), a `<member>.ids` sidecar lists the kept ids so that
    ///   ``Dataset/load(path:options:)`` gives back exactly the kept ids.
    ///
    /// `prunedSplits` defaults to `["train"]` if the dataset has a train split (valid/test stay whole),
    /// else every split. The output is written to a temporary file and renamed on success.
    @discardableResult
    public static func export(
        _ dataset: Dataset, keeping kept: Set<String>, to output: String,
        prunedSplits: Set<String>? = nil
    ) throws -> ExportSummary {
        let kind = try ArchiveWriter.Kind.required(path: output)
        let pruned = prunedSplits ?? (dataset[split: "train"] != nil ? ["train"] : Set(dataset.splitNames))
        var byMember: [String: LabeledSplit] = [:]
        var labelsMembers: [String: LabeledSplit] = [:]
        var summary = ExportSummary(output: output, prunedSplits: pruned.sorted(), kept: [:], total: [:], unknownIDCount: 0)
        var known = Set<String>()
        for s in dataset.splits where pruned.contains(s.name) {
            byMember[s.member] = s
            if let l = s.labelsMember { labelsMembers[l] = s }
            known.formUnion(s.ids)
            summary.total[s.name] = s.count
            summary.kept[s.name] = s.records.reduce(0) { $0 + (kept.contains($1.id) ? 1 : 0) }
        }
        summary.unknownIDCount = kept.subtracting(known).count

        let source = try ArchiveSource(path: dataset.sourcePath)
        let isSingleFile = try source.isSingleFile()
        let writer = try ArchiveWriter(path: output, kind: kind)
        var sidecarsWritten = Set<String>()
        try source.forEachMember { member, bytes in
            let file = isSingleFile ? dataset.sourcePath : "\(dataset.sourcePath):\(member)"
            if member.hasSuffix(".ids"), byMember[String(member.dropLast(4))] != nil { return }
            if let split = labelsMembers[member] {
                let labels = try IDXFormat.parse(bytes, file: file)
                let keep = keptIndices(split, kept)
                var data: [UInt8] = []
                data.reserveCapacity(keep.count)
                for i in keep where i < labels.data.count { data.append(labels.data[i]) }
                try writer.add(path: stripGz(member), bytes: IDXFormat.encode(IDXArray(dims: [data.count], data: data)))
                return
            }
            guard let split = byMember[member] else {
                try writer.add(path: member, bytes: bytes)
                return
            }
            let keep = keptIndices(split, kept)
            var outName = member
            var out: [UInt8] = []
            switch dataset.format {
            case .wrench:
                out = try WRENCHFormat.filterSplit(bytes, file: file, kept: kept)
            case .jsonl, .csv, .text:
                let ranges: [Range<Int>]
                var header: Range<Int>?
                switch dataset.format {
                case .jsonl: ranges = try JSONLFormat.readRaw(bytes, member: member, file: file, options: dataset.options.jsonl).ranges
                case .csv:
                    ranges = try CSVFormat.readRaw(bytes, member: member, file: file, options: dataset.options.csv).ranges
                    header = try CSVFormat.headerRange(bytes, file: file, delimiter: dataset.options.csv.delimiter)
                default: ranges = TextCorpusFormat.raw(bytes, member: member).ranges
                }
                guard ranges.count == split.count else {
                    throw DataIOError.writeFailed(
                        path: output, reason: "\(file) changed since it was loaded (\(ranges.count) records, expected \(split.count))")
                }
                if let header { out += bytes[header]; out.append(0x0a) }
                for i in keep { out += bytes[ranges[i]]; out.append(0x0a) }
            case .idx:
                let images = try IDXFormat.parse(bytes, file: file)
                let size = images.itemSize
                var data: [UInt8] = []
                data.reserveCapacity(keep.count * size)
                for i in keep where (i + 1) * size <= images.data.count { data += images.data[(i * size)..<((i + 1) * size)] }
                var dims = images.dims
                dims[0] = data.count / max(size, 1)
                out = IDXFormat.encode(IDXArray(dims: dims, data: data))
                outName = stripGz(member)
            }
            try writer.add(path: outName, bytes: out)
            if !split.hasIntrinsicIDs, sidecarsWritten.insert(outName).inserted {
                let ids = keep.map { split.records[$0].id }.joined(separator: "\n") + "\n"
                try writer.add(path: outName + ".ids", bytes: Array(ids.utf8))
            }
        }
        try writer.finish()
        return summary
    }

    private static func keptIndices(_ split: LabeledSplit, _ kept: Set<String>) -> [Int] {
        split.records.indices.filter { kept.contains(split.records[$0].id) }
    }

    private static func stripGz(_ path: String) -> String {
        path.hasSuffix(".gz") ? String(path.dropLast(3)) : path
    }
}
