import Foundation

/// Summary of one split for ``DatasetReport``.
public struct SplitReport: Sendable, Codable, Equatable {
    /// Split name.
    public var name: String
    /// Member the split was read from.
    public var member: String
    /// Number of records.
    public var count: Int
    /// Records with a gold label.
    public var labeledCount: Int
    /// Records per gold class.
    public var classCounts: [Int]
    /// Records with text.
    public var textCount: Int
    /// Feature vector length, if the records have features.
    public var featureLength: Int?
    /// Smallest and largest feature value, if any.
    public var featureRange: [Float]?
    /// True if ids come from the data rather than positions.
    public var hasIntrinsicIDs: Bool
}

/// What `winnow datasets inspect PATH` prints: members, format, splits, classes and weak supervision.
public struct DatasetReport: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The inspected path.
    public var path: String
    /// Members of the archive or directory.
    public var members: [ArchiveMember]
    /// Detected format.
    public var format: DatasetFormat
    /// Class names by index.
    public var classNames: [String]
    /// One entry per split.
    public var splits: [SplitReport]
    /// Majority-vote coverage/accuracy for splits with weak labels.
    public var weakLabels: [WeakLabelReport]
    /// The tie policy used for the majority vote.
    public var tiePolicy: TiePolicy
    /// `Dataset.warnings`: what loads but is probably not meant.
    public var warnings: [String] = []

    public var description: String {
        var lines: [String] = []
        lines.append("\(path)  [format: \(format.rawValue)]")
        for w in warnings { lines.append("warning: \(w)") }
        lines.append("members (\(members.count)):")
        for m in members { lines.append("  \(m.path)\(m.size.map { "  \($0) bytes" } ?? "")") }
        if !classNames.isEmpty {
            lines.append(
                "classes (\(classNames.count)): " + classNames.enumerated().map { "\($0.offset)=\($0.element)" }.joined(separator: ", "))
        }
        lines.append("splits:")
        for s in splits {
            var line = "  \(s.name): \(s.count) records from \(s.member)"
            if s.labeledCount > 0 { line += ", \(s.labeledCount) labeled, per class \(s.classCounts)" }
            if s.textCount > 0 { line += ", \(s.textCount) with text" }
            if let n = s.featureLength {
                line += ", \(n) features"
                if let r = s.featureRange, r.count == 2 { line += " in [\(fmt(Double(r[0]), 0)), \(fmt(Double(r[1]), 0))]" }
            }
            if !s.hasIntrinsicIDs { line += ", positional ids" }
            lines.append(line)
        }
        for w in weakLabels {
            lines.append("weak labels (\(w.split)): \(w.labelingFunctionCount) labeling functions, majority vote:")
            lines.append(
                "  coverage \(pct(w.coverage)) (≥1 vote), unique majority \(pct(w.decisiveCoverage)), ties \(w.tieCount), all-abstain "
                    + "\(w.allAbstainCount)"
            )
            if let a = w.accuracy { lines.append("  accuracy \(pct(a)) on unique-majority samples") }
            if let a = w.expectedAccuracyOnCovered { lines.append("  expected accuracy \(pct(a)) on covered samples (ties count 1/k)") }
            for lf in w.labelingFunctions {
                lines.append("  LF \(lf.index): coverage \(pct(lf.coverage))" + (lf.accuracy.map { ", accuracy \(pct($0))" } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func pct(_ x: Double) -> String { fmt(100 * x, 1) + "%" }
    private func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}

/// Builds ``DatasetReport``s.
public enum DatasetInspector {
    /// Loads the dataset at `path` (archive, file or directory) and summarises it.
    public static func inspect(path: String, options: DatasetOptions = .init()) throws -> DatasetReport {
        let members = try ArchiveSource(path: path).members()
        let dataset = try Dataset.load(path: path, options: options)
        return report(dataset, members: members)
    }

    /// Summarises an already loaded dataset.
    public static func report(_ dataset: Dataset, members: [ArchiveMember]) -> DatasetReport {
        let splits = dataset.splits.map { s -> SplitReport in
            var lo = Float.infinity, hi = -Float.infinity
            var featureLength: Int?
            for r in s.records {
                guard let f = r.features else { continue }
                featureLength = f.count
                for x in f { lo = min(lo, x); hi = max(hi, x) }
            }
            return SplitReport(
                name: s.name, member: s.member, count: s.count,
                labeledCount: s.records.reduce(0) { $0 + ($1.label != nil ? 1 : 0) },
                classCounts: s.classCounts(classCount: dataset.classCount),
                textCount: s.records.reduce(0) { $0 + ($1.text != nil ? 1 : 0) },
                featureLength: featureLength, featureRange: featureLength != nil ? [lo, hi] : nil,
                hasIntrinsicIDs: s.hasIntrinsicIDs)
        }
        var weak: [WeakLabelReport] = []
        if dataset.classCount > 0 {
            let mv = MajorityVote(classCount: dataset.classCount, policy: dataset.options.tiePolicy)
            for s in dataset.splits where s.hasWeakLabels { weak.append(mv.apply(to: s).report) }
        }
        return DatasetReport(
            path: dataset.sourcePath, members: members, format: dataset.format,
            classNames: dataset.classNames, splits: splits, weakLabels: weak,
            tiePolicy: dataset.options.tiePolicy, warnings: dataset.warnings)
    }
}
