import Testing
import Tensors
import WinnowTestSupport
@testable import NeuralNetworks

/// Finite-difference checks of the text classifiers, and the embedding bag's pooling against a hand computation.
@Suite struct TextModelTests {
    @Test func embeddingBagIsTheMeanOfTokenEmbeddings() {
        var rng = RandomGenerator(seed: 1)
        let model = EmbeddingBagClassifier(vocabularySize: 5, embeddingWidth: 3, hiddenWidth: 4, classes: 2, rng: &rng)
        let table = model.embedding.weight.scalars
        let bags = model.bags([[1, 3, 3], [], [4]]).scalars
        for j in 0..<3 {
            #expect(abs(bags[j] - (table[3 + j] + 2 * table[9 + j]) / 3) < 1e-6)
            #expect(bags[3 + j] == 0, "a text without tokens has a zero bag")
            #expect(bags[6 + j] == table[12 + j])
        }
    }

    @Test func embeddingBagDerivatives() {
        var rng = RandomGenerator(seed: 2)
        let model = EmbeddingBagClassifier(vocabularySize: 6, embeddingWidth: 3, hiddenWidth: 4, classes: 3, rng: &rng)
        model.embedding.weight.assign(randomTensor([6, 3], seed: 3))
        let tokens = [[0, 5, 5, 2], [1], [], [3, 4]]
        expectDerivatives(model.parameters()) { model(tokens, .evaluation()) }
        let (feature, _) = model.features(tokens, .evaluation())
        #expect(feature.shape == [4, 4] && model.featureWidth == 4)
    }

    @Test func transformerClassifierDerivativesWithPadding() {
        var rng = RandomGenerator(seed: 4)
        let config = BertConfiguration(
            layers: 1, hidden: 4, heads: 2, intermediate: 6, vocabularySize: 8, maxPositions: 4,
            dropout: 0, layerNormEpsilon: 1e-5)
        let model = TransformerTextClassifier(config, classes: 2, rng: &rng)
        for (key, table) in model.namedParameters() where key.hasSuffix("embeddings.weight") {
            table.assign(randomTensor(table.shape, seed: 5))
        }
        // The second text is padded; the third is cut to maxPositions.
        let tokens = [[2, 5, 7], [2, 3], [2, 1, 4, 6, 6, 6]]
        expectDerivatives(model.parameters()) { model(tokens, .evaluation()) }
        #expect(model.namedParameters().map(\.key).contains("bert.encoder.layer.0.attention.self.query.weight"))
        // Padding does not change a text's output.
        let alone = model([[2, 3]], .evaluation()).scalars
        let padded = model(tokens, .evaluation()).scalars
        expectClose(alone, Array(padded[2..<4]), tolerance: 1e-5)
    }

    @Test func featureTableClassifierReadsRowsAndTrainsOnlyTheHead() {
        var rng = RandomGenerator(seed: 6)
        let table = randomTensor([5, 3], seed: 7)
        let model = FeatureTableClassifier(table: table, hiddenWidth: 4, classes: 2, rng: &rng)
        #expect(model.namedParameters().map(\.key).sorted() == ["hidden.bias", "hidden.weight", "output.bias", "output.weight"])
        let tokens = [[4], [0], [4], [2]]
        expectDerivatives(model.parameters()) { model(tokens, .evaluation()) }
        let (feature, logits) = model.features(tokens, .evaluation())
        #expect(feature.shape == [4, 4] && logits.shape == [4, 2] && model.featureWidth == 4)
        // A text's output depends on its row only.
        let rows = logits.scalars
        #expect(Array(rows[0..<2]) == Array(rows[4..<6]))
        #expect(Array(rows[0..<2]) != Array(rows[2..<4]), "different rows give different outputs")
        #expect(model([[2]], .evaluation()).scalars == Array(rows[6..<8]))
        #expect(table.grad == nil && !table.requiresGrad)
    }
}
