/// Column choices for CSV files (the first row is the header).
public struct CSVOptions: Sendable, Equatable {
    /// Field separator byte (default `,`).
    public var delimiter: UInt8
    /// Id column; missing → `member#index`.
    public var idColumn: String?
    /// Text column.
    public var textColumn: String?
    /// Label column (integer class index or class name).
    public var labelColumn: String?
    /// Numeric feature columns; nil = every other column when there is no text column, else none.
    public var featureColumns: [String]?

    /// Memberwise initialiser; see the properties for meanings and defaults.
    public init(
        delimiter: UInt8 = UInt8(ascii: ","), idColumn: String? = "id", textColumn: String? = "text",
        labelColumn: String? = "label", featureColumns: [String]? = nil
    ) {
        self.delimiter = delimiter
        self.idColumn = idColumn
        self.textColumn = textColumn
        self.labelColumn = labelColumn
        self.featureColumns = featureColumns
    }
}

/// RFC 4180 CSV: quoted fields (`""` escapes a quote, newlines allowed inside quotes), CRLF or LF.
public enum CSVFormat {
    /// One parsed row: fields, byte range of the row (without its line break) and 1-based start line.
    struct Row {
        var fields: [String]
        var range: Range<Int>
        var line: Int
    }

    /// Splits `bytes` into rows; blank lines are skipped.
    static func rows(_ bytes: [UInt8], file: String, delimiter: UInt8) throws -> [Row] {
        var rows: [Row] = []
        let quote = UInt8(ascii: "\"")
        var i = 0, line = 1
        let n = bytes.count
        while i < n {
            let start = i, startLine = line
            var fields: [String] = []
            var field: [UInt8] = []
            var endOfRow = false
            while !endOfRow {
                if i < n && bytes[i] == quote {
                    let quoteLine = line
                    i += 1
                    while true {
                        guard i < n else {
                            throw DataIOError.malformedCSV(file: file, line: quoteLine, reason: "unterminated quoted field")
                        }
                        let c = bytes[i]
                        if c == quote {
                            if i + 1 < n && bytes[i + 1] == quote { field.append(quote); i += 2; continue }
                            i += 1
                            break
                        }
                        if c == 0x0a { line += 1 }
                        field.append(c)
                        i += 1
                    }
                    if i < n && bytes[i] != delimiter && bytes[i] != 0x0a && bytes[i] != 0x0d {
                        throw DataIOError.malformedCSV(file: file, line: line, reason: "unexpected character after closing quote")
                    }
                }
                while i < n && bytes[i] != delimiter && bytes[i] != 0x0a {
                    if bytes[i] == quote {
                        throw DataIOError.malformedCSV(file: file, line: line, reason: "quote inside an unquoted field")
                    }
                    field.append(bytes[i])
                    i += 1
                }
                if i < n && bytes[i] == delimiter {
                    i += 1
                } else {
                    endOfRow = true
                }
                if endOfRow, field.last == 0x0d { field.removeLast() }
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            }
            var stop = i
            if stop > start && bytes[stop - 1] == 0x0d { stop -= 1 }
            if i < n { i += 1; line += 1 }  // consume '\n'
            if fields.count == 1 && fields[0].isEmpty { continue }
            rows.append(Row(fields: fields, range: start..<stop, line: startLine))
        }
        return rows
    }

    /// Reads one CSV member into a split; string labels become indices into sorted class names.
    public static func read(
        _ bytes: [UInt8], member: String, file: String,
        options: CSVOptions = .init()
    ) throws -> (split: LabeledSplit, classNames: [String]) {
        let raw = try readRaw(bytes, member: member, file: file, options: options)
        let resolver = try LabelResolver(splits: [raw], fixedNames: nil)
        return (try resolver.resolve(raw, file: file), resolver.classNames)
    }

    /// The header row and the parsed data rows.
    static func readRaw(_ bytes: [UInt8], member: String, file: String, options: CSVOptions) throws -> RawSplit {
        let all = try rows(bytes, file: file, delimiter: options.delimiter)
        guard let header = all.first else { throw DataIOError.emptySplit(file: file, split: baseName(member)) }
        func column(_ name: String?) -> Int? { name.flatMap { header.fields.firstIndex(of: $0) } }
        let idCol = column(options.idColumn), textCol = column(options.textColumn), labelCol = column(options.labelColumn)
        var featureCols: [Int] = []
        if let names = options.featureColumns {
            featureCols = try names.map { name in
                guard let k = header.fields.firstIndex(of: name) else {
                    throw DataIOError.badField(file: file, line: header.line, id: nil, key: name, reason: "no such column in the header")
                }
                return k
            }
        } else if textCol == nil {
            featureCols = (0..<header.fields.count).filter { $0 != idCol && $0 != labelCol }
        }
        var split = RawSplit(
            name: baseName(member), member: member, records: [], labels: [], ranges: [],
            hasIntrinsicIDs: idCol != nil)
        var seen = Set<String>()
        for row in all.dropFirst() {
            guard row.fields.count == header.fields.count else {
                throw DataIOError.malformedCSV(
                    file: file, line: row.line,
                    reason: "expected \(header.fields.count) fields, found \(row.fields.count)")
            }
            let index = split.records.count
            var record = DataRecord(id: idCol.map { row.fields[$0] } ?? positionalID(member: member, index: index))
            guard seen.insert(record.id).inserted else { throw DataIOError.duplicateID(file: file, id: record.id) }
            if let t = textCol { record.text = row.fields[t] }
            var label: RawLabel?
            if let l = labelCol {
                let s = row.fields[l]
                if let k = Int(s) { label = .index(k) } else if !s.isEmpty { label = .name(s) }
            }
            if !featureCols.isEmpty {
                record.features = try featureCols.map { k in
                    guard let x = Float(row.fields[k].trimmingSpaces) else {
                        throw DataIOError.malformedCSV(
                            file: file, line: row.line,
                            reason: "column '\(header.fields[k])': '\(row.fields[k])' is not a number")
                    }
                    guard x.isFinite else {
                        throw DataIOError.malformedCSV(
                            file: file, line: row.line,
                            reason: "column '\(header.fields[k])': '\(row.fields[k])' is not a finite number")
                    }
                    return x
                }
            }
            for (k, name) in header.fields.enumerated()
            where k != idCol && k != textCol && k != labelCol && !featureCols.contains(k) {
                record.extra[name] = .string(row.fields[k])
            }
            split.records.append(record)
            split.labels.append(label)
            split.ranges.append(row.range)
        }
        return split
    }

    /// The byte range of the header row (for export).
    static func headerRange(_ bytes: [UInt8], file: String, delimiter: UInt8) throws -> Range<Int>? {
        try rows(bytes, file: file, delimiter: delimiter).first?.range
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
