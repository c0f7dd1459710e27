import Tensors

/// BERT's masked-language-model corruption (Devlin et al. 2019): each real, non-special token is selected
/// with probability `selectionProbability` (15%); of the selected, 80% become `[MASK]`, 10% a uniformly
/// random non-special id and 10% stay as they are. The model is trained to predict the original id of every
/// selected token (``MaskedLanguageModelHead/tokenLosses(hidden:tokens:)``).
///
/// Eligible tokens are those under attention mask 1 whose id is not special (`[CLS]`, `[SEP]`, `[PAD]`,
/// `[UNK]` and `[MASK]` itself). **Choice:** a row with at least one eligible token always gets at least one
/// selection (one eligible position drawn uniformly when the coin flips chose none), so every document
/// contributes to the loss; with rows of tens of tokens this changes the selected share by < 0.01%.
///
/// The random draws, row by row: one uniform per eligible position for selection; the fallback position if
/// none was selected; then, per selected position in order, one uniform for mask / random / keep and, for
/// random, ids drawn until a non-special one comes up. The same generator state gives the same corruption.
public struct MaskedLanguageModeling: Sendable, Equatable {
    /// One selected token: where it is and the id it had before corruption (the prediction target).
    public struct Target: Sendable, Equatable, Hashable, Codable {
        /// Row of the batch.
        public var row: Int
        /// Position within the row.
        public var position: Int
        /// The original id.
        public var original: Int

        public init(row: Int, position: Int, original: Int) {
            self.row = row; self.position = position; self.original = original
        }
    }

    /// A corrupted batch: the ids the encoder reads and the selected tokens in row-major order.
    public struct Corruption: Sendable, Equatable {
        /// The corrupted id rows (same shape as the input).
        public var ids: [[Int]]
        /// Every selected token, by row then position.
        public var targets: [Target]
    }

    /// The `[MASK]` id.
    public let maskID: Int
    /// Ids never selected nor drawn as random replacements (the given specials and `[MASK]`).
    public let specialIDs: Set<Int>
    /// Random replacements are drawn from `0..<vocabularySize` minus ``specialIDs``.
    public let vocabularySize: Int
    /// Probability that an eligible token is selected (0.15).
    public let selectionProbability: Float
    /// Of the selected tokens, the share replaced by `[MASK]` (0.8) and by a random id (0.1); the rest stay.
    public let maskShare: Float, randomShare: Float

    /// - Parameters:
    ///   - specialIDs: the tokenizer's special ids (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`); `maskID` is added.
    ///   - maskID: the `[MASK]` id.
    ///   - vocabularySize: the number of ids; at least one must be non-special.
    public init(
        specialIDs: Set<Int>, maskID: Int, vocabularySize: Int, selectionProbability: Float = 0.15,
        maskShare: Float = 0.8, randomShare: Float = 0.1
    ) {
        let specials = specialIDs.union([maskID])
        precondition(maskID >= 0 && maskID < vocabularySize, "[MASK] id \(maskID) outside the vocabulary 0..<\(vocabularySize)")
        precondition(specials.filter { $0 >= 0 && $0 < vocabularySize }.count < vocabularySize, "every id is special")
        precondition(selectionProbability > 0 && selectionProbability <= 1, "selection probability must be in (0, 1]")
        precondition(maskShare >= 0 && randomShare >= 0 && maskShare + randomShare <= 1, "mask and random shares must sum to ≤ 1")
        self.maskID = maskID
        self.specialIDs = specials
        self.vocabularySize = vocabularySize
        self.selectionProbability = selectionProbability
        self.maskShare = maskShare
        self.randomShare = randomShare
    }

    /// Whether the token `id` under attention mask `attended` may be selected.
    public func isEligible(_ id: Int, attended: Int) -> Bool { attended != 0 && !specialIDs.contains(id) }

    /// Corrupts `ids` (rows of equal or unequal length; `attentionMask` of the same shape, 1 token / 0 padding).
    public func corrupt(_ ids: [[Int]], attentionMask: [[Int]], rng: inout RandomGenerator) -> Corruption {
        precondition(ids.count == attentionMask.count, "corrupt: \(ids.count) id rows but \(attentionMask.count) mask rows")
        var corrupted = ids
        var targets: [Target] = []
        for (row, tokens) in ids.enumerated() {
            let mask = attentionMask[row]
            precondition(mask.count == tokens.count, "corrupt: row \(row) has \(tokens.count) ids but \(mask.count) mask entries")
            var eligible: [Int] = []
            var selected: [Int] = []
            for (position, id) in tokens.enumerated() where isEligible(id, attended: mask[position]) {
                eligible.append(position)
                if rng.uniform() < selectionProbability { selected.append(position) }
            }
            if selected.isEmpty && !eligible.isEmpty { selected = [eligible[rng.integer(below: eligible.count)]] }
            // Draw the replacements in position order, whichever way the positions were selected.
            for position in selected {
                let original = tokens[position]
                targets.append(Target(row: row, position: position, original: original))
                let u = rng.uniform()
                if u < maskShare {
                    corrupted[row][position] = maskID
                } else if u < maskShare + randomShare {
                    corrupted[row][position] = randomNonSpecialID(&rng)
                }
            }
        }
        return Corruption(ids: corrupted, targets: targets)
    }

    /// A uniformly drawn id of `0..<vocabularySize` that is not special.
    public func randomNonSpecialID(_ rng: inout RandomGenerator) -> Int {
        while true {
            let id = rng.integer(below: vocabularySize)
            if !specialIDs.contains(id) { return id }
        }
    }
}
