import Foundation

/// Query results as rows and columns, rendered for people (`table`) or programs (`csv`, `json`).
public struct ResultTable: Sendable, Equatable {
    public enum Cell: Sendable, Equatable {
        case int(Int64), double(Double), text(String), null
        /// Structured data: `json` verbatim in JSON output, `plain` in tables and CSV.
        case structured(json: String, plain: String)

        public var plain: String {
            switch self {
            case .int(let v): return String(v)
            case .double(let v): return v.isFinite ? String(format: "%.6g", v) : "\(v)"
            case .text(let v): return v
            case .null: return ""
            case .structured(_, let plain): return plain
            }
        }
        public var json: String {
            switch self {
            case .int(let v): return String(v)
            case .double(let v): return JSONText.number(v)
            case .text(let v): return JSONText.string(v)
            case .null: return "null"
            case .structured(let json, _): return json
            }
        }
        var csv: String {
            switch self {
            case .double(let v): return v.isFinite ? "\(v)" : ""
            case .text(let v) where v.contains(",") || v.contains("\"") || v.contains("\n"):
                return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            case .structured(_, let v) where v.contains(",") || v.contains("\"") || v.contains("\n"):
                return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            default: return plain
            }
        }
    }

    public enum Format: String, Sendable, CaseIterable {
        case table, csv, json
    }

    public var columns: [String]
    public var rows: [[Cell]]

    public init(columns: [String], rows: [[Cell]] = []) {
        self.columns = columns
        self.rows = rows
    }

    /// The rendered text, ending in a newline.
    public func render(_ format: Format) -> String {
        switch format {
        case .csv:
            return ([columns.joined(separator: ",")] + rows.map { $0.map(\.csv).joined(separator: ",") })
                .joined(separator: "\n") + "\n"
        case .json:
            let objects = rows.map { row in
                "{" + zip(columns, row).map { "\(JSONText.string($0)): \($1.json)" }.joined(separator: ", ") + "}"
            }
            return "[" + objects.joined(separator: ",\n ") + "]\n"
        case .table:
            // Free-text columns are cut so one long error message does not stretch the whole table.
            let capped = Set(["metrics", "error", "distribution"])
            let cells = rows.map { row in
                zip(columns, row).map { column, cell in
                    let text = cell.plain.replacingOccurrences(of: "\n", with: " ")
                    return capped.contains(column) && text.count > 60 ? String(text.prefix(59)) + "…" : text
                }
            }
            var widths = columns.map(\.count)
            for row in cells { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
            func line(_ values: [String], numeric: [Bool]) -> String {
                values.enumerated().map { i, value in
                    let pad = String(repeating: " ", count: max(0, widths[i] - value.count))
                    return numeric[i] ? pad + value : value + pad
                }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            }
            let numeric = columns.indices.map { i in
                rows.contains {
                    if case .int = $0[i] { return true }; if case .double = $0[i] { return true }; return false
                }
            }
            var out = line(columns, numeric: numeric) + "\n"
            out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            for row in cells { out += line(row, numeric: numeric) + "\n" }
            return out
        }
    }
}

extension ResultTable {
    /// Final metrics: a JSON object, or `name=value` pairs by name in tables and CSV.
    public static func metricsCell(_ metrics: [String: Double]) -> Cell {
        .structured(
            json: JSONText.object(metrics),
            plain: metrics.keys.sorted().map { "\($0)=\(Cell.double(metrics[$0]!).plain)" }.joined(separator: " "))
    }

    public static func checkpointCell(_ usage: CheckpointUsage) -> Cell {
        let files = usage.files.count, orphans = usage.orphans.count
        let json = "{\"bytes\": \(usage.totalBytes), \"files\": \(files), \"orphans\": \(orphans)}"
        guard usage.totalBytes > 0 || files > 0 else { return .structured(json: json, plain: "none") }
        var plain = byteText(usage.totalBytes)
        if files > 0 { plain += " in \(files) file\(files == 1 ? "" : "s")" }
        if usage.storedBytes > 0 { plain += files > 0 ? " and the database" : " in the database" }
        if orphans > 0 { plain += " (\(orphans) orphan\(orphans == 1 ? "" : "s"))" }
        return .structured(json: json, plain: plain)
    }

    /// `512 B`, `4.2 kB`, `12.3 MB`, `1.5 GB` (powers of 1000).
    public static func byteText(_ bytes: Int) -> String {
        guard bytes >= 1000 else { return "\(bytes) B" }
        var value = Double(bytes) / 1000
        for unit in ["kB", "MB", "GB"] {
            if value < 1000 || unit == "GB" { return String(format: "%.1f", value) + " " + unit }
            value /= 1000
        }
        return "\(bytes) B"
    }

    /// The `sample` column: the registered key, or the integer id when the run registered no samples.
    static func sample(_ sampleID: Int, _ key: String?) -> Cell {
        key.map(Cell.text) ?? .int(Int64(sampleID))
    }

    /// Step, sample id, key and weight; with `texts` (by sample id; the caller reads them from the dataset) a
    /// `text` column too, empty for samples it lacks.
    public static func weights(_ weights: [SampleWeight], texts: [Int: String]? = nil) -> ResultTable {
        ResultTable(
            columns: ["step", "sample_id", "sample", "weight"] + (texts == nil ? [] : ["text"]),
            rows: weights.map { weight in
                let row: [Cell] = [
                    .int(Int64(weight.step)), .int(Int64(weight.sampleID)), sample(weight.sampleID, weight.key), .double(weight.weight),
                ]
                guard let texts else { return row }
                return row + [texts[weight.sampleID].map(Cell.text) ?? .null]
            })
    }

    /// One row per vocabulary token: step, token id, the token, how many masked tokens it was, mean weight.
    public static func tokenWeights(_ weights: [TokenWeight]) -> ResultTable {
        ResultTable(
            columns: ["step", "token_id", "token", "count", "weight"],
            rows: weights.map {
                [.int(Int64($0.step)), .int(Int64($0.tokenID)), .text($0.token), .int(Int64($0.count)), .double($0.weight)]
            })
    }

    /// With `bars`, a text bar per bin (for terminals).
    public static func histogram(_ histogram: WeightHistogram, bars: Bool = false) -> ResultTable {
        let largest = max(1, histogram.bins.map(\.count).max() ?? 1)
        return ResultTable(
            columns: ["lower", "upper", "count"] + (bars ? [""] : []),
            rows: histogram.bins.map { bin in
                [.double(bin.lower), .double(bin.upper), .int(Int64(bin.count))]
                    + (bars ? [.text(String(repeating: "#", count: (bin.count * 40 + largest - 1) / largest))] : [])
            })
    }

    public static func labels(_ labels: [CorrectedLabel]) -> ResultTable {
        ResultTable(
            columns: ["sample_id", "sample", "original_label", "corrected_label", "changed", "distribution"],
            rows: labels.map { label in
                [
                    .int(Int64(label.sampleID)), sample(label.sampleID, label.key), label.originalLabel.map { .int(Int64($0)) } ?? .null,
                    .int(Int64(label.correctedLabel)), .text(label.isChanged ? "yes" : "no"),
                    label.distribution.map { .text(JSONText.array($0)) } ?? .null,
                ]
            })
    }

    public static func scores(_ scores: [SampleScore]) -> ResultTable {
        ResultTable(
            columns: ["sample_id", "sample", "score"],
            rows: scores.map { [.int(Int64($0.sampleID)), sample($0.sampleID, $0.key), .double($0.score)] })
    }

    /// One row per pruning score name: its steps, latest step, samples and range there.
    public static func scoreSummaries(_ summaries: [ScoreSummary]) -> ResultTable {
        ResultTable(
            columns: ["name", "steps", "latest_step", "samples", "min", "max"],
            rows: summaries.map {
                [
                    .text($0.name), .int(Int64($0.stepCount)), .int(Int64($0.latestStep)), .int(Int64($0.sampleCount)),
                    .double($0.minimum), .double($0.maximum),
                ]
            })
    }
}
