import Tensors

/// A classifier of token-id sequences (one list per sample, from any `TextTokenizer`), exposing the
/// penultimate feature that label-correction meta nets read.
public protocol TextClassifier: Module {
    var classCount: Int { get }
    /// Width of the penultimate feature.
    var featureWidth: Int { get }
    /// The penultimate feature `[B, featureWidth]` and the logits `[B, classCount]`.
    func features(_ tokens: [[Int]], _ context: ForwardContext) -> (feature: Tensor, logits: Tensor)
}

extension TextClassifier {
    public func callAsFunction(_ tokens: [[Int]], _ context: ForwardContext) -> Tensor { features(tokens, context).logits }
}

/// Embedding bag → ReLU hidden layer → logits: the mean of the token embeddings of a text (fastText-style),
/// fed through one hidden layer. Keys `embedding.weight`, `hidden.*`, `output.*`. A text without tokens
/// has a zero bag.
public final class EmbeddingBagClassifier: TextClassifier {
    public let embedding: Embedding
    public let hidden: Linear
    public let output: Linear
    public let dropout: Dropout
    public let classCount: Int

    public init(
        vocabularySize: Int, embeddingWidth: Int, hiddenWidth: Int, classes: Int, dropout: Float = 0,
        rng: inout RandomGenerator
    ) {
        embedding = Embedding(vocabularySize, embeddingWidth, std: 0.1, rng: &rng)
        hidden = Linear(embeddingWidth, hiddenWidth, rng: &rng)
        output = Linear(hiddenWidth, classes, rng: &rng)
        self.dropout = Dropout(dropout)
        classCount = classes
    }

    public var children: [(String, any Module)] { [("embedding", embedding), ("hidden", hidden), ("output", output)] }
    public var featureWidth: Int { hidden.weight.shape[0] }

    /// The mean token embedding of each text, `[B, embeddingWidth]`.
    public func bags(_ tokens: [[Int]]) -> Tensor {
        let ids = tokens.flatMap { $0 }
        var segment: [Int] = []
        segment.reserveCapacity(ids.count)
        var inverseLengths: [Float] = []
        for (row, list) in tokens.enumerated() {
            segment += repeatElement(row, count: list.count)
            inverseLengths.append(list.isEmpty ? 0 : 1 / Float(list.count))
        }
        let width = embedding.weight.shape[1]
        let sums = embedding.weight.indexSelect(ids).indexAdd(segment, into: [tokens.count, width])
        return sums * Tensor(shape: [tokens.count, 1], storage: inverseLengths)
    }

    public func features(_ tokens: [[Int]], _ context: ForwardContext) -> (feature: Tensor, logits: Tensor) {
        let h = dropout(hidden(dropout(bags(tokens), context)).relu(), context)
        return (h, output(h))
    }
}

/// A BERT-layout transformer encoder over token ids (first id `[CLS]`, 0 = padding), masked mean pooling
/// and a linear head: `BertClassifier` behind the `TextClassifier` interface (keys `bert.*`, `classifier.*`),
/// so pretrained BERT-family weights load into it.
public final class TransformerTextClassifier: TextClassifier {
    public let model: BertClassifier
    public let configuration: BertConfiguration
    public let classCount: Int

    public init(_ configuration: BertConfiguration, classes: Int, rng: inout RandomGenerator) {
        model = BertClassifier(configuration, classes: classes, rng: &rng)
        self.configuration = configuration
        classCount = classes
    }

    public var children: [(String, any Module)] { model.children }
    public var featureWidth: Int { configuration.hidden }

    public func features(_ tokens: [[Int]], _ context: ForwardContext) -> (feature: Tensor, logits: Tensor) {
        let length = max(1, min(configuration.maxPositions, tokens.map(\.count).max() ?? 1))
        var ids: [[Int]] = [], mask: [[Int]] = []
        for list in tokens {
            let kept = Array(list.prefix(length))
            ids.append(kept + [Int](repeating: 0, count: length - kept.count))
            mask.append([Int](repeating: 1, count: kept.count) + [Int](repeating: 0, count: length - kept.count))
        }
        return model.features(ids, mask: mask, context)
    }
}

/// A classifier over fixed feature vectors, one row of a constant table per text: the token list of a text
/// is its row index. The table (for example frozen sentence embeddings of a pretrained encoder) is not a
/// parameter: only the head trains, so meta-learning perturbs and adapts the head alone. Dropout → hidden
/// ReLU layer → dropout → logits; keys `hidden.*`, `output.*`.
public final class FeatureTableClassifier: TextClassifier {
    /// `[rows, width]`, without gradient.
    public let table: Tensor
    public let hidden: Linear
    public let output: Linear
    public let dropout: Dropout
    public let classCount: Int

    public init(table: Tensor, hiddenWidth: Int, classes: Int, dropout: Float = 0, rng: inout RandomGenerator) {
        precondition(
            table.rank == 2 && !table.requiresGrad, "FeatureTableClassifier needs a constant [rows, width] table, got \(table.shape)")
        self.table = table
        hidden = Linear(table.shape[1], hiddenWidth, rng: &rng)
        output = Linear(hiddenWidth, classes, rng: &rng)
        self.dropout = Dropout(dropout)
        classCount = classes
    }

    public var children: [(String, any Module)] { [("hidden", hidden), ("output", output)] }
    public var featureWidth: Int { hidden.weight.shape[0] }

    public func features(_ tokens: [[Int]], _ context: ForwardContext) -> (feature: Tensor, logits: Tensor) {
        let rows = tokens.map { list in
            precondition(list.count == 1, "FeatureTableClassifier expects one row index per text, got \(list.count)")
            return list[0]
        }
        let h = dropout(hidden(dropout(table.indexSelect(rows), context)).relu(), context)
        return (h, output(h))
    }
}
