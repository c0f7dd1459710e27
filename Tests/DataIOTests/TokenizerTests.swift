import Testing
@testable import DataIO

@Suite struct TokenizerTests {
    @Test func wordsAreLowercasedRunsWithInnerApostrophes() {
        #expect(
            WordSplitter.words("It's a GOOD film -- 10/10, isn't it? 'quoted'") == [
                "it's", "a", "good", "film", "10", "10", "isn't", "it", "quoted",
            ])
        #expect(WordSplitter.words("  ...  ").isEmpty)
        #expect(WordSplitter.words("café naïve") == ["café", "naïve"])
    }

    @Test func hashedNGramsAreDeterministicAndInRange() {
        let tokenizer = HashedNGramTokenizer(buckets: 1_000, maxN: 2)
        let ids = tokenizer.encode("a very good film")
        #expect(ids.count == 4 + 3, "four unigrams and three bigrams")
        #expect(ids.allSatisfy { $0 >= 0 && $0 < 1_000 })
        #expect(ids == HashedNGramTokenizer(buckets: 1_000, maxN: 2).encode("A very GOOD film!"))
        // Word order matters for bigrams only: the unigram multiset is the same.
        let swapped = tokenizer.encode("film good very a")
        #expect(Array(ids.prefix(4)).sorted() == Array(swapped.prefix(4)).sorted())
        #expect(Array(ids.suffix(3)).sorted() != Array(swapped.suffix(3)).sorted())
        #expect(tokenizer.encode("").isEmpty)
        #expect(HashedNGramTokenizer(buckets: 1_000, maxN: 1).encode("one").count == 1)
    }

    @Test func vocabularyByFrequencyWithSpecialTokens() {
        let texts = ["the film is good", "the film is bad", "the plot", "rare"]
        let tokenizer = WordVocabularyTokenizer(trainingTexts: texts, maxWords: 10, minimumCount: 2, maxLength: 4)
        #expect(tokenizer.words == ["the", "film", "is"])
        #expect(tokenizer.vocabularySize == 6)
        #expect(tokenizer.encode("The film is rare and long") == [2, 3, 4, 5], "[CLS] then at most three words")
        #expect(tokenizer.encode("unknown the") == [2, 1, 3])
        #expect(WordVocabularyTokenizer(trainingTexts: texts, maxWords: 1, maxLength: 8).words == ["the"])
    }

    @Test func wordPieceLooksUpTokenIds() throws {
        let tokenizer = try WordPieceTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "film"])
        #expect(tokenizer.id(of: "[MASK]") == 4 && tokenizer.id(of: "film") == 5)
        #expect(tokenizer.id(of: "[mask]") == nil && tokenizer.id(of: "plot") == nil)
    }
}
