import Foundation

/// Choosing which samples to keep from a run's pruning scores or importance weights.
public struct ManifestRequest: Sendable, Equatable {
    public enum Selection: Sendable, Equatable {
        /// Keep this fraction of samples, highest values first.
        case keep(Double)
        /// Drop this fraction of samples, lowest values first.
        case prune(Double)
    }
    /// What samples are ranked by: `weight` (importance weights at the latest step) or the name of a pruning
    /// score the run recorded (its latest step). Higher always means more worth keeping.
    public struct Ranking: RawRepresentable, Sendable, Hashable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Importance weights at the latest step (`sample_weights`).
        public static let weight = Ranking(rawValue: ScoreName.reserved)
        /// Pruning scores recorded without a name (and those migrated from schema v2).
        public static let score = Ranking(rawValue: ScoreName.legacy)
        /// The pruning score called `name`.
        public static func score(named name: String) -> Ranking { Ranking(rawValue: name) }
    }
    public enum Format: String, Sendable, CaseIterable {
        case jsonl, csv
    }

    public var runID: Int64
    public var selection: Selection
    /// nil: the run's only pruning score name.
    public var ranking: Ranking?
    /// Apply the fraction within each class of the run's training labels (the `original_label` of its
    /// recorded labels; samples without one form their own group), so no class is dropped.
    public var perClass: Bool

    public init(runID: Int64, selection: Selection, ranking: Ranking? = nil, perClass: Bool = false) {
        self.runID = runID
        self.selection = selection
        self.ranking = ranking
        self.perClass = perClass
    }
}

public struct ManifestEntry: Sendable, Equatable {
    public var sampleID: Int
    public var value: Double
    /// The sample's registered key (its dataset id); nil when the run registered no samples.
    public var key: String?
}

extension ResultStore {
    /// The kept samples, in sample-id order, with the value they were ranked by. An unknown score name throws
    /// ``StoreError/unknownScoreName(path:runID:name:available:)`` listing the run's names.
    /// Ranking is by value descending, ties broken by the lower sample id, so the result is deterministic.
    public func manifest(_ request: ManifestRequest) throws -> [ManifestEntry] {
        let fraction: Double
        switch request.selection {
        case .keep(let value), .prune(let value): fraction = value
        }
        guard fraction.isFinite, fraction >= 0, fraction <= 1 else {
            throw StoreError.invalidArgument("fraction must be between 0 and 1, got \(fraction)")
        }
        let ranked: [ManifestEntry]
        if request.ranking == .weight {
            let step = try latestWeightStep(run: request.runID)
            let statement = try connection.prepare(
                """
                SELECT w.sample_id, w.weight, s.key FROM sample_weights w
                LEFT JOIN samples s ON s.run_id = w.run_id AND s.sample_id = w.sample_id
                WHERE w.run_id = ? AND w.step = ? ORDER BY w.weight DESC, w.sample_id
                """)
            statement.bind(1, request.runID)
            statement.bind(2, step)
            ranked = try statement.all { ManifestEntry(sampleID: $0.int(0), value: $0.double(1), key: $0.text(2)) }
        } else {
            ranked = try scores(run: request.runID, name: request.ranking?.rawValue)
                .map { ManifestEntry(sampleID: $0.sampleID, value: $0.score, key: $0.key) }
        }
        guard request.perClass else { return Self.select(ranked, request.selection).sorted { $0.sampleID < $1.sampleID } }
        let labels = try trainingLabels(run: request.runID)
        guard !labels.isEmpty else {
            throw StoreError.noResults(path: path, runID: request.runID, what: "training labels (needed by --per-class)")
        }
        let groups = Dictionary(grouping: ranked) { labels[$0.sampleID] ?? -1 }
        return groups.values.flatMap { Self.select($0, request.selection) }.sorted { $0.sampleID < $1.sampleID }
    }

    /// The first entries of `ranked` (highest first) that `selection` keeps.
    private static func select(_ ranked: [ManifestEntry], _ selection: ManifestRequest.Selection) -> ArraySlice<ManifestEntry> {
        let total = ranked.count
        let keepCount: Int
        switch selection {
        case .keep(let f): keepCount = Int((f * Double(total)).rounded())
        case .prune(let f): keepCount = total - Int((f * Double(total)).rounded())
        }
        return ranked.prefix(max(0, min(total, keepCount)))
    }

    /// Each sample's training label (the `original_label` of the run's recorded labels; samples without one
    /// are left out): empty when the run recorded no labels.
    public func trainingLabels(run runID: Int64) throws -> [Int: Int] {
        try requireRun(runID)
        let statement = try connection.prepare(
            "SELECT sample_id, original_label FROM corrected_labels WHERE run_id = ? AND original_label IS NOT NULL")
        statement.bind(1, runID)
        return Dictionary(try statement.all { ($0.int(0), $0.int(1)) }, uniquingKeysWith: { a, _ in a })
    }
}

/// Writes manifests atomically: to a temporary file next to the destination, then renamed over it.
public enum ManifestWriter {
    /// Writes the manifest (`jsonl` or `csv`, with a `sample` field when the run registered keys) atomically.
    public static func write(
        _ entries: [ManifestEntry], ranking: ManifestRequest.Ranking,
        format: ManifestRequest.Format, to path: String
    ) throws {
        var text = ""
        text.reserveCapacity(entries.count * 32)
        let field = ranking.rawValue
        // Runs that registered sample keys get a `sample` field with the key (the dataset's own id).
        let hasKeys = entries.contains { $0.key != nil }
        switch format {
        case .jsonl:
            for entry in entries {
                let sample = hasKeys ? ", \"sample\": " + (entry.key.map(JSONText.string) ?? "null") : ""
                text += "{\"sample_id\": \(entry.sampleID)\(sample), \"\(field)\": \(JSONText.number(entry.value))}\n"
            }
        case .csv:
            text += hasKeys ? "sample_id,sample,\(field)\n" : "sample_id,\(field)\n"
            for entry in entries {
                let sample = hasKeys ? ResultTable.Cell.text(entry.key ?? "").csv + "," : ""
                text += "\(entry.sampleID),\(sample)\(entry.value)\n"
            }
        }
        try writeAtomically(text, to: path)
    }

    /// Writes `text` to `.<name>.tmp-<pid>` beside `path` and renames it over `path`; on failure the temporary
    /// file is removed and `path` is untouched. (`ArchiveWriter` names its temporaries with the same prefix, so
    /// `export manifest` can remove both when interrupted.) The folder must exist.
    public static func writeAtomically(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError.outputFailed(path: path, reason: "folder \(directory.path) does not exist")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data(text.utf8).write(to: temporary)
            // rename(2) replaces the destination atomically: readers see the old file or the new one.
            guard rename(temporary.path, url.path) == 0 else {
                throw StoreError.outputFailed(path: path, reason: String(cString: strerror(errno)))
            }
        } catch let error as StoreError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw StoreError.outputFailed(path: path, reason: error.localizedDescription)
        }
    }
}
