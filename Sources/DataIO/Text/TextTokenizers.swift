/// Turns a text into integer token ids. Models take token-id lists, so the tokenizer is pluggable:
/// hashed n-grams for the embedding-bag model, a word vocabulary for transformers trained from scratch, and
/// BERT WordPiece (`WordPieceTokenizer`) for pretrained encoders.
public protocol TextTokenizer: Sendable {
    /// Ids are in `0..<vocabularySize`.
    var vocabularySize: Int { get }
    /// The ids of one text (possibly empty).
    func encode(_ text: String) -> [Int]
}

/// Lower-cased words: maximal runs of letters, digits and inner apostrophes ("don't" is one word).
public enum WordSplitter {
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                current.unicodeScalars.append(scalar)
            } else if scalar == "'", !current.isEmpty {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current.hasSuffix("'") ? String(current.dropLast()) : current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current.hasSuffix("'") ? String(current.dropLast()) : current) }
        return words
    }
}

/// Word n-grams (n = 1...`maxN`) hashed (FNV-1a, 64-bit) into `buckets` ids: no vocabulary to build or
/// store, any text is encoded, and collisions are rare enough for a bag-of-n-grams model.
public struct HashedNGramTokenizer: TextTokenizer {
    public let buckets: Int
    public let maxN: Int

    public init(buckets: Int, maxN: Int = 2) {
        precondition(buckets >= 1 && maxN >= 1, "HashedNGramTokenizer needs buckets ≥ 1 and maxN ≥ 1, got \(buckets), \(maxN)")
        self.buckets = buckets
        self.maxN = maxN
    }

    public var vocabularySize: Int { buckets }

    public func encode(_ text: String) -> [Int] {
        let hashes = WordSplitter.words(text).map { Self.fnv1a($0.utf8) }
        var ids: [Int] = []
        ids.reserveCapacity(hashes.count * maxN)
        for n in 1...maxN where hashes.count >= n {
            for start in 0...(hashes.count - n) {
                // Combine the word hashes of the n-gram with the order and n mixed in.
                var h: UInt64 = 0xCBF2_9CE4_8422_2325 &+ UInt64(n)
                for k in 0..<n { h = (h ^ hashes[start + k]) &* 0x0000_0100_0000_01B3; h ^= h >> 29 }
                ids.append(Int(h % UInt64(buckets)))
            }
        }
        return ids
    }

    static func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// A word vocabulary built from training texts, for sequence models: id 0 = `[PAD]`, 1 = `[UNK]`,
/// 2 = `[CLS]`, then words by descending frequency (ties by spelling) seen at least `minimumCount` times.
/// `encode` gives `[CLS]` followed by at most `maxLength − 1` word ids.
public struct WordVocabularyTokenizer: TextTokenizer {
    public static let padding = 0, unknown = 1, classToken = 2
    public let words: [String]
    public let maxLength: Int
    private let index: [String: Int]

    public init(trainingTexts: [String], maxWords: Int, minimumCount: Int = 2, maxLength: Int) {
        precondition(maxWords >= 1 && maxLength >= 2, "WordVocabularyTokenizer needs maxWords ≥ 1 and maxLength ≥ 2")
        var counts: [String: Int] = [:]
        for text in trainingTexts { for w in WordSplitter.words(text) { counts[w, default: 0] += 1 } }
        let kept = counts.filter { $0.value >= minimumCount }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(maxWords).map(\.key)
        words = kept
        self.maxLength = maxLength
        var index: [String: Int] = [:]
        for (i, w) in kept.enumerated() { index[w] = i + 3 }
        self.index = index
    }

    public var vocabularySize: Int { words.count + 3 }

    public func encode(_ text: String) -> [Int] {
        [Self.classToken] + WordSplitter.words(text).prefix(maxLength - 1).map { index[$0] ?? Self.unknown }
    }
}
