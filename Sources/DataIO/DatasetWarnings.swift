import Foundation

extension Dataset {
    /// Things that load without error but are probably not what the user meant, one sentence each naming the
    /// dataset: a split name held by two members (only the first is read), classes no sample has (labels that
    /// skip a value) or that only a stray sample or two has, empty texts, and samples on which every weak
    /// labeling function abstains. Applications print these before training; `winnow datasets inspect` too.
    public var warnings: [String] {
        var warnings: [String] = []
        let source = sourcePath
        var membersBySplit: [String: [String]] = [:]
        for split in splits { membersBySplit[split.name, default: []].append(split.member) }
        for name in splitNames where (membersBySplit[name]?.count ?? 0) > 1 {
            let members = membersBySplit[name] ?? []
            warnings.append(
                "\(source): split '\(name)' is in \(members.count) members (\(members.joined(separator: ", "))); "
                    + "only \(members[0]) is read")
            membersBySplit[name] = nil
        }
        warnings += classWarnings()
        for split in splits {
            let texts = split.records.compactMap(\.text)
            let empty = texts.filter { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.count
            if empty > 0 { warnings.append("\(source): split '\(split.name)': \(empty) of \(split.count) texts are empty") }
            let abstaining = split.records.filter { r in r.weakLabels.map { !$0.isEmpty && $0.allSatisfy { $0 < 0 } } ?? false }.count
            if abstaining > 0 {
                warnings.append(
                    "\(source): split '\(split.name)': every weak labeling function abstains on \(abstaining) of \(split.count) samples")
            }
        }
        return warnings
    }

    /// Classes of the first split with labels (the training split when there is one) that no sample has, or
    /// that hold under 1% of an even share while the split has at least 100 samples per class.
    private func classWarnings() -> [String] {
        guard classNames.count > 1, let split = self[split: "train"] ?? splits.first(where: { $0.records.contains { $0.label != nil } })
        else { return [] }
        var counts = [Int](repeating: 0, count: classNames.count)
        for record in split.records { if let label = record.label, label >= 0, label < counts.count { counts[label] += 1 } }
        let labeled = counts.reduce(0, +)
        guard labeled > 0 else { return [] }
        var warnings: [String] = []
        let missing = counts.indices.filter { counts[$0] == 0 }
        if !missing.isEmpty {
            warnings.append(
                "\(sourcePath): split '\(split.name)' has no sample of class\(missing.count == 1 ? "" : "es") "
                    + missing.map { "\($0) ('\(classNames[$0])')" }.joined(separator: ", ")
                    + " of \(classNames.count): a label that skips values makes extra classes")
        }
        let share = Double(labeled) / Double(classNames.count)
        let stray = counts.indices.filter { counts[$0] > 0 && share >= 100 && Double(counts[$0]) < 0.01 * share }
        if !stray.isEmpty {
            warnings.append(
                "\(sourcePath): split '\(split.name)': class\(stray.count == 1 ? "" : "es") "
                    + stray.map { "\($0) ('\(classNames[$0])', \(counts[$0]) sample\(counts[$0] == 1 ? "" : "s"))" }
                    .joined(separator: ", ")
                    + " hold under 1% of an even share: a stray label?")
        }
        return warnings
    }
}
