import Testing
import Tensors
import WinnowTestSupport
@testable import NeuralNetworks

/// The MLM head (tied decoder, derivatives), the per-token MLM losses and BERT's 15% / 80-10-10 masking.
@Suite struct MaskedLanguageModelTests {
    static let tiny = BertConfiguration(
        layers: 1, hidden: 4, heads: 2, intermediate: 6, vocabularySize: 11, maxPositions: 6, dropout: 0, layerNormEpsilon: 1e-5)

    /// A head on an 11 × 4 table with every parameter moved off its initial value.
    static func head(seed: UInt64) -> (table: Tensor, head: MaskedLanguageModelHead) {
        var rng = RandomGenerator(seed: seed)
        let table = Tensor.normal([11, 4], using: &rng, requiresGrad: true)
        let head = MaskedLanguageModelHead(wordEmbeddings: table, layerNormEpsilon: 1e-5, rng: &rng)
        head.bias.assign(randomTensor([11], seed: seed + 1))
        head.norm.weight.assign(randomTensor([4], seed: seed + 2, low: 0.5, high: 1.5))
        head.norm.bias.assign(randomTensor([4], seed: seed + 3))
        return (table, head)
    }

    @Test func headKeysFollowTheHuggingFaceLayoutAndNewBiasIsZero() {
        var rng = RandomGenerator(seed: 1)
        let encoder = BertEncoder(Self.tiny, rng: &rng)
        let head = MaskedLanguageModelHead(tiedTo: encoder, rng: &rng)
        #expect(head.namedParameters().map(\.key) == [
            "cls.predictions.bias", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.transform.LayerNorm.weight",
            "cls.predictions.transform.dense.bias", "cls.predictions.transform.dense.weight",
        ])
        #expect(head.bias.shape == [11] && head.bias.scalars.allSatisfy { $0 == 0 })
        #expect(head.wordEmbeddings === encoder.embeddings.words.weight, "the decoder is the embedding tensor itself")
        #expect(!head.parameters().contains { $0 === encoder.embeddings.words.weight }, "the tied table is listed once, by the encoder")
        let bound = 1 / Float(4).squareRoot()
        #expect(head.dense.weight.scalars.allSatisfy { abs($0) <= bound } && head.dense.weight.scalars.contains { $0 != 0 })
    }

    @Test func logitsAreTheTransformTimesTheEmbeddingTransposePlusBias() {
        let (table, head) = Self.head(seed: 2)
        let h = randomTensor([3, 4], seed: 3, low: -2, high: 2)
        let logits = head(h)
        #expect(logits.shape == [3, 11])
        // By hand: t = LayerNorm(GELU(h·Wᵀ + b)), logits[i, v] = Σ_k t[i, k]·E[v, k] + bias[v].
        let t = head.norm(head.dense(h).gelu()).scalars, e = table.scalars, bias = head.bias.scalars
        var expected: [Float] = []
        for i in 0..<3 {
            for v in 0..<11 { expected.append((0..<4).reduce(bias[v]) { $0 + t[i * 4 + $1] * e[v * 4 + $1] }) }
        }
        expectClose(logits.scalars, expected, tolerance: 1e-5)
    }

    @Test func tiedDecoderReadsTheEmbeddingTensor() {
        var rng = RandomGenerator(seed: 4)
        let encoder = BertEncoder(Self.tiny, rng: &rng)
        let head = MaskedLanguageModelHead(tiedTo: encoder, rng: &rng)
        let h = randomTensor([2, 4], seed: 5)
        let before = head(h).scalars
        let table = encoder.embeddings.words.weight
        table.assign(table.scalars.map { $0 * 3 + 0.5 })
        let after = head(h).scalars
        #expect(before != after, "changing the encoder's embeddings changes the logits")
        // Only row 7 changed: only column 7 of the logits moves.
        table.assign(randomTensor([11, 4], seed: 6))
        let reference = head(h).scalars
        var changed = table.scalars
        // Not a constant shift: the LayerNorm output sums to 0 over k, so a constant would cancel.
        for (k, delta) in [Float(1), -0.5, 0.25, 2].enumerated() { changed[7 * 4 + k] += delta }
        table.assign(changed)
        let moved = head(h).scalars
        for i in 0..<2 {
            for v in 0..<11 { #expect((moved[i * 11 + v] != reference[i * 11 + v]) == (v == 7), "row \(i), id \(v)") }
        }
        // Gradients of a loss through the head reach the embedding table.
        let loss = Loss.meanCrossEntropy(head(h), labels: [3, 9])
        let grads = Autodiff.gradients(of: loss, wrt: [table])
        #expect(grads[0].scalars.contains { $0 != 0 })
    }

    @Test func headDerivativesIncludingTheTiedEmbedding() {
        let (table, head) = Self.head(seed: 7)
        let h = randomTensor([3, 4], seed: 8, low: -2, high: 2)
        expectDerivatives([h, table] + head.parameters()) { head(h) }
    }

    @Test func tokenLossesAreTheCrossEntropyAtTheSelectedPositions() {
        var rng = RandomGenerator(seed: 9)
        let encoder = BertEncoder(Self.tiny, rng: &rng)
        let head = MaskedLanguageModelHead(tiedTo: encoder, rng: &rng)
        let ids = [[2, 4, 10, 7, 3], [2, 5, 6, 3, 0]], mask = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]
        let targets = [
            MaskedLanguageModeling.Target(row: 0, position: 2, original: 8), .init(row: 1, position: 1, original: 5),
            .init(row: 1, position: 2, original: 9),
        ]
        let hidden = encoder(ids, mask: mask, .evaluation())
        let losses = head.tokenLosses(hidden: hidden, tokens: targets)
        #expect(losses.shape == [3])
        // Reference: logits at every position, then the cross-entropy of the three selected ones.
        let all = head(hidden).logSoftmax().scalars
        let expected = targets.map { -all[($0.row * 5 + $0.position) * 11 + $0.original] }
        expectClose(losses.scalars, expected, tolerance: 1e-5)
        #expect(head.tokenLosses(hidden: hidden, tokens: []).shape == [0])
    }

    @Test func tokenLossDerivativesOnATinyModel() {
        var rng = RandomGenerator(seed: 10)
        let encoder = BertEncoder(Self.tiny, rng: &rng)
        let head = MaskedLanguageModelHead(tiedTo: encoder, rng: &rng)
        for (key, table) in encoder.namedParameters() where key.hasSuffix("embeddings.weight") {
            table.assign(randomTensor(table.shape, seed: 11))
        }
        head.bias.assign(randomTensor([11], seed: 12))
        let ids = [[2, 4, 1, 7, 3], [2, 5, 6, 3, 0]], mask = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]
        let targets = [
            MaskedLanguageModeling.Target(row: 0, position: 2, original: 8), .init(row: 0, position: 3, original: 7),
            .init(row: 1, position: 2, original: 9),
        ]
        let parameters = encoder.parameters() + head.parameters()
        expectDerivatives(parameters) { head.tokenLosses(hidden: encoder(ids, mask: mask, .evaluation()), tokens: targets) }
    }
}

/// BERT's masking rule: what may be selected, the 15% and 80/10/10 shares, determinism.
@Suite struct MaskedLanguageModelingTests {
    // A vocabulary of 50 ids: 0 [PAD], 1 [UNK], 2 [CLS], 3 [SEP], 4 [MASK].
    static let masking = MaskedLanguageModeling(specialIDs: [0, 1, 2, 3], maskID: 4, vocabularySize: 50)

    /// `rows` rows of `[CLS] w… [SEP] [PAD]…` with `[UNK]` sprinkled in, lengths 2 + 20…63.
    static func rows(_ count: Int, seed: UInt64) -> (ids: [[Int]], mask: [[Int]]) {
        var rng = RandomGenerator(seed: seed)
        var ids: [[Int]] = [], mask: [[Int]] = []
        for _ in 0..<count {
            let words = 20 + rng.integer(below: 44)
            let body = (0..<words).map { _ in rng.uniform() < 0.05 ? 1 : 5 + rng.integer(below: 45) }
            let row = [2] + body + [3]
            ids.append(row + [Int](repeating: 0, count: 66 - row.count))
            mask.append([Int](repeating: 1, count: row.count) + [Int](repeating: 0, count: 66 - row.count))
        }
        return (ids, mask)
    }

    @Test func specialsAndPaddingAreNeverSelected() {
        var (ids, mask) = Self.rows(300, seed: 1)
        // Real-looking ids under padding must not be selected either.
        ids[0][65] = 17; mask[0][65] = 0
        ids.append([2, 3, 0, 0]); mask.append([1, 1, 0, 0])  // no eligible token
        ids.append([2, 1, 9, 3]); mask.append([1, 1, 1, 1])  // one eligible token
        var rng = RandomGenerator(seed: 2)
        let result = Self.masking.corrupt(ids, attentionMask: mask, rng: &rng)
        #expect(!result.targets.isEmpty)
        var selected = Set<[Int]>()
        for target in result.targets {
            let id = ids[target.row][target.position]
            #expect(mask[target.row][target.position] == 1 && id >= 5, "selected \(id) at \(target)")
            #expect(target.original == id)
            selected.insert([target.row, target.position])
        }
        for (row, tokens) in ids.enumerated() {
            for (position, id) in tokens.enumerated() {
                let now = result.ids[row][position]
                if selected.contains([row, position]) {
                    #expect(now == 4 || now == id || (now >= 5 && now < 50), "a replacement is [MASK], the token or a non-special id")
                } else {
                    #expect(now == id, "unselected tokens are untouched")
                }
            }
        }
        #expect(!result.targets.contains { $0.row == 300 }, "a row without eligible tokens has no selection")
        #expect(result.targets.filter { $0.row == 301 } == [.init(row: 301, position: 2, original: 9)], "at least one per row")
        let perRow = Dictionary(grouping: result.targets, by: \.row)
        #expect((0..<302).filter { perRow[$0] == nil } == [300])
    }

    @Test func selectedShareAndEightyTenTenSplit() {
        let (ids, mask) = Self.rows(2_400, seed: 3)
        var eligible = 0
        for (row, tokens) in ids.enumerated() {
            for (position, id) in tokens.enumerated() where Self.masking.isEligible(id, attended: mask[row][position]) { eligible += 1 }
        }
        #expect(eligible > 95_000 && eligible < 110_000)
        var rng = RandomGenerator(seed: 4)
        let result = Self.masking.corrupt(ids, attentionMask: mask, rng: &rng)
        let selected = Double(result.targets.count)
        var masked = 0, random = 0, kept = 0
        for target in result.targets {
            let now = result.ids[target.row][target.position]
            if now == 4 { masked += 1 } else if now == target.original { kept += 1 } else { random += 1 }
        }
        // A random replacement can draw the original id (1 in 45): count those as random when comparing with 10%.
        let share = selected / Double(eligible)
        let (m, r, k) = (Double(masked) / selected, Double(random) / selected, Double(kept) / selected)
        #expect(abs(share - 0.15) < 0.005, "selected share \(share)")
        #expect(abs(m - 0.8) < 0.01, "[MASK] share \(m)")
        #expect(abs(r - 0.1 * 44 / 45) < 0.01, "random share \(r)")
        #expect(abs(k - (0.1 + 0.1 / 45)) < 0.01, "kept share \(k)")
        // Random replacements are spread over the non-special ids.
        let replacements = Set(result.targets.map { result.ids[$0.row][$0.position] }.filter { $0 != 4 })
        #expect(replacements.count == 45 && replacements.allSatisfy { $0 >= 5 && $0 < 50 })
    }

    @Test func sameSeedSameCorruption() {
        let (ids, mask) = Self.rows(50, seed: 5)
        var a = RandomGenerator(seed: 6), b = RandomGenerator(seed: 6), c = RandomGenerator(seed: 7)
        let first = Self.masking.corrupt(ids, attentionMask: mask, rng: &a)
        #expect(first == Self.masking.corrupt(ids, attentionMask: mask, rng: &b))
        #expect(a == b, "the generators advance alike")
        #expect(first != Self.masking.corrupt(ids, attentionMask: mask, rng: &c))
    }
}
