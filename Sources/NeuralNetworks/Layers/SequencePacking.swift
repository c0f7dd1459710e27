import Tensors

/// The tokens of a padded batch as the rows of one packed matrix. A `[B, T]` batch with a padding mask holds
/// N ≤ B·T tokens; every position-wise layer (the projections, the feed-forward block, LayerNorm, dropout) runs
/// on the packed `[N, W]` rows alone, so the padding costs nothing there, and only attention, which mixes
/// positions, sees the padded `[B, T, W]` layout. The result is exactly what the padded computation gives at
/// the tokens (the padding rows it would have computed are never read by a token: attention masks them out).
public struct SequencePacking: Sendable, Equatable {
    /// B: sequences in the batch.
    public let batch: Int
    /// T: the padded length.
    public let length: Int
    /// The flat position b·T + t of each token, in order: row i of the packed matrix is token `tokenPositions[i]`.
    public let tokenPositions: [Int]

    /// The tokens of a padding mask `[B][T]` of 1 (token) / 0 (padding); every row has the same length.
    public init(mask: [[Int]]) {
        let length = mask.first?.count ?? 0
        precondition(mask.allSatisfy { $0.count == length }, "SequencePacking: mask rows of different lengths")
        batch = mask.count
        self.length = length
        var positions: [Int] = []
        positions.reserveCapacity(batch * length)
        for (b, row) in mask.enumerated() {
            for (t, flag) in row.enumerated() where flag != 0 { positions.append(b * length + t) }
        }
        tokenPositions = positions
    }

    /// A batch without padding: packing and padding are reshapes.
    public init(denseBatch batch: Int, length: Int) {
        self.batch = batch
        self.length = length
        tokenPositions = Array(0..<(batch * length))
    }

    /// `body` on the rows of a `[B, T, W]` batch without padding, its `[N, W]` result back as `[B, T, W]`: the
    /// padded-layout entry of a layer that works on packed rows.
    public static func overDenseBatch(_ x: Tensor, _ body: (Tensor, SequencePacking) -> Tensor) -> Tensor {
        let packing = SequencePacking(denseBatch: x.shape[0], length: x.shape[1])
        return packing.padded(body(packing.packed(x), packing))
    }

    /// N: the number of tokens.
    public var tokenCount: Int { tokenPositions.count }

    /// True when every position holds a token.
    public var isDense: Bool { tokenPositions.count == batch * length }

    /// `[N, W]` token rows → `[B, T, W]`, zeros at the padding (differentiable: the adjoint of ``packed(_:)``).
    public func padded(_ rows: Tensor) -> Tensor {
        precondition(rows.rank == 2 && rows.shape[0] == tokenCount, "padded: expected [\(tokenCount), W], got \(rows.shape)")
        let width = rows.shape[1]
        if isDense { return rows.reshaped([batch, length, width]) }
        return rows.indexAdd(tokenPositions, into: [batch * length, width]).reshaped([batch, length, width])
    }

    /// `[B, T, W]` → the `[N, W]` rows of the tokens (differentiable: the adjoint of ``padded(_:)``).
    public func packed(_ padded: Tensor) -> Tensor {
        precondition(
            padded.rank == 3 && padded.shape[0] == batch && padded.shape[1] == length,
            "packed: expected [\(batch), \(length), W], got \(padded.shape)")
        let flat = padded.reshaped([batch * length, padded.shape[2]])
        return isDense ? flat : flat.indexSelect(tokenPositions)
    }

    /// The position t of each token within its sequence, in packed order (the position-embedding ids).
    public var positionsInSequence: [Int] { tokenPositions.map { $0 % Swift.max(length, 1) } }

    /// The entries of a `[B][T]` table at the tokens, in packed order.
    public func tokens(of table: [[Int]]) -> [Int] {
        tokenPositions.map { table[$0 / length][$0 % length] }
    }
}
