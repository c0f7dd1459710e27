import Foundation

/// Errors reading a WordPiece vocabulary; each names the file.
public enum WordPieceError: Error, LocalizedError, Equatable, Sendable {
    /// The vocabulary file does not exist or cannot be read.
    case unreadableVocabulary(path: String, reason: String)
    /// The vocabulary file holds no tokens.
    case emptyVocabulary(path: String)
    /// A special token the encoder needs (`[UNK]`, `[CLS]`, `[SEP]`) is not in the vocabulary.
    case missingSpecialToken(path: String, token: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadableVocabulary(path, reason): "\(path): cannot read WordPiece vocabulary (\(reason))"
        case let .emptyVocabulary(path): "\(path): WordPiece vocabulary is empty"
        case let .missingSpecialToken(path, token): "\(path): WordPiece vocabulary has no '\(token)' token"
        }
    }
}

/// The uncased BERT WordPiece tokenizer (as in Hugging Face `BertTokenizer` with `do_lower_case`), so that
/// pretrained BERT-family encoders such as all-MiniLM-L6-v2 see the ids they were trained on.
///
/// Text is cleaned (NUL, U+FFFD and control characters dropped, whitespace made a space), CJK ideographs
/// are set apart, letters are lower-cased and stripped of accents (NFD, combining marks dropped), then
/// split on whitespace and punctuation (each punctuation character is a token of its own). Each word is
/// cut greedily into the longest vocabulary pieces, continuations spelt `##piece`; a word with a piece
/// missing from the vocabulary, or longer than ``maxCharactersPerWord`` characters, becomes `[UNK]`.
/// `encode` returns `[CLS] pieces… [SEP]`.
public struct WordPieceTokenizer: TextTokenizer {
    /// The tokens, by id (line `i` of `vocab.txt` is id `i`).
    public let tokens: [String]
    /// Ids of the special tokens.
    public let paddingID: Int, unknownID: Int, classID: Int, separatorID: Int
    /// Length of `encode(_:)` sequences at most, `[CLS]` and `[SEP]` included.
    public let defaultMaxLength: Int
    /// Words longer than this (in Unicode scalars) become `[UNK]`.
    public let maxCharactersPerWord = 100
    private let index: [String: Int]

    /// Reads a `vocab.txt` (one token per line, line `i` is id `i`).
    /// - Parameter defaultMaxLength: the length limit of `encode(_:)` (512, BERT's positions, by default).
    /// - Throws: ``WordPieceError`` naming the file when it is missing, empty or lacks `[UNK]`, `[CLS]` or `[SEP]`.
    public init(vocabularyFile url: URL, defaultMaxLength: Int = 512) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WordPieceError.unreadableVocabulary(path: url.path, reason: error.localizedDescription)
        }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line -> String in
            var bytes = line
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }  // the newline ending the last token
        guard !lines.isEmpty else { throw WordPieceError.emptyVocabulary(path: url.path) }
        try self.init(tokens: lines, defaultMaxLength: defaultMaxLength, source: url.path)
    }

    /// A tokenizer over an in-memory vocabulary; `source` names it in errors.
    public init(tokens: [String], defaultMaxLength: Int = 512, source: String = "vocabulary") throws {
        precondition(defaultMaxLength >= 2, "WordPieceTokenizer needs defaultMaxLength ≥ 2 for [CLS] and [SEP]")
        guard !tokens.isEmpty else { throw WordPieceError.emptyVocabulary(path: source) }
        var index: [String: Int] = [:]
        index.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() { index[token] = i }  // a repeated token keeps its last id, as in BERT
        func id(_ token: String) throws -> Int {
            guard let id = index[token] else { throw WordPieceError.missingSpecialToken(path: source, token: token) }
            return id
        }
        unknownID = try id("[UNK]")
        classID = try id("[CLS]")
        separatorID = try id("[SEP]")
        paddingID = index["[PAD]"] ?? 0
        self.tokens = tokens
        self.index = index
        self.defaultMaxLength = defaultMaxLength
    }

    public var vocabularySize: Int { tokens.count }

    /// The id of a token spelt exactly `token` (for example `[MASK]`), or nil if the vocabulary lacks it.
    public func id(of token: String) -> Int? { index[token] }

    /// `[CLS] pieces… [SEP]`, at most ``defaultMaxLength`` ids.
    public func encode(_ text: String) -> [Int] { encode(text, maxLength: defaultMaxLength) }

    /// `[CLS] pieces… [SEP]`, at most `maxLength` (≥ 2) ids: pieces past `maxLength − 2` are cut, `[SEP]` stays last.
    public func encode(_ text: String, maxLength: Int) -> [Int] {
        precondition(maxLength >= 2, "WordPieceTokenizer.encode needs maxLength ≥ 2 for [CLS] and [SEP], got \(maxLength)")
        var ids = [classID]
        ids.reserveCapacity(Swift.min(maxLength, 2 * text.utf8.count + 2))
        let budget = maxLength - 1
        for word in Self.basicTokens(text) {
            appendPieces(of: word, to: &ids)
            if ids.count >= budget { break }
        }
        if ids.count > budget { ids.removeLast(ids.count - budget) }
        ids.append(separatorID)
        return ids
    }

    /// ``encode(_:maxLength:)`` and whether pieces were cut to fit (the text has more than `maxLength − 2`).
    public func encodeNotingCut(_ text: String, maxLength: Int) -> (ids: [Int], isCut: Bool) {
        // One id more than allowed is there exactly when the text has more pieces than fit; its first
        // `maxLength − 1` ids are those `encode(text, maxLength:)` keeps.
        let longer = encode(text, maxLength: maxLength + 1)
        guard longer.count > maxLength else { return (longer, false) }
        return (Array(longer.prefix(maxLength - 1)) + [separatorID], true)
    }

    /// The pieces of `text` as strings (no `[CLS]`/`[SEP]`), for inspection.
    public func tokenize(_ text: String) -> [String] {
        var ids: [Int] = []
        for word in Self.basicTokens(text) { appendPieces(of: word, to: &ids) }
        return ids.map { tokens[$0] }
    }

    /// Greedy longest-match-first WordPiece of one basic token.
    private func appendPieces(of word: [Unicode.Scalar], to ids: inout [Int]) {
        if word.count > maxCharactersPerWord { ids.append(unknownID); return }
        let start = ids.count
        var begin = 0
        while begin < word.count {
            var end = word.count
            var found: Int?
            while begin < end {
                var piece = String.UnicodeScalarView()
                if begin > 0 { piece.append("#"); piece.append("#") }
                piece.append(contentsOf: word[begin..<end])
                if let id = index[String(piece)] { found = id; break }
                end -= 1
            }
            guard let found else {
                ids.removeLast(ids.count - start)
                ids.append(unknownID)
                return
            }
            ids.append(found)
            begin = end
        }
    }

    /// BERT's basic tokenization: cleaned, lower-cased, accent-stripped words and punctuation marks.
    static func basicTokens(_ text: String) -> [[Unicode.Scalar]] {
        // Clean: drop NUL, U+FFFD and control characters; whitespace becomes a space; CJK ideographs are set apart.
        var cleaned = String.UnicodeScalarView()
        var ascii = true
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || isControl(s) { continue }
            if isWhitespace(s) {
                cleaned.append(" ")
            } else if isCJK(s.value) {
                cleaned.append(" "); cleaned.append(s); cleaned.append(" ")
                ascii = false
            } else {
                cleaned.append(s)
                if !s.isASCII { ascii = false }
            }
        }
        // Lower-case, then strip accents: canonical decomposition, combining marks (Mn) dropped.
        var lowered = String(cleaned).lowercased()
        if !ascii { lowered = lowered.decomposedStringWithCanonicalMapping }
        // Split on whitespace and punctuation.
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in lowered.unicodeScalars {
            if !s.isASCII && s.properties.generalCategory == .nonspacingMark { continue }
            if s == " " || (!s.isASCII && s.properties.isWhitespace) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if isPunctuation(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Space, tab, newline, carriage return, and Unicode space separators (Zs).
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        if s == " " || s == "\t" || s == "\n" || s == "\r" { return true }
        return !s.isASCII && s.properties.generalCategory == .spaceSeparator
    }

    /// Categories Cc, Cf, Cs, Co, Cn, except tab, newline and carriage return (whitespace for BERT).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        if s.isASCII { return s.value < 32 || s.value == 127 }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// ASCII 33–47, 58–64, 91–96, 123–126 (BERT counts `$`, `+`, `^`, `` ` `` … as punctuation) and categories P*.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        if s.isASCII { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT splits into single characters (not kana or hangul).
    static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
