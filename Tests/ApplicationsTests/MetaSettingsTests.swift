import MetaLearning
import Recipes
import Runtime
import Testing

/// `MetaSettings`: the one mapping from settings to the engine's methods (α reaches DARTS too), and ranges.
@Suite struct MetaSettingsTests {
    @Test func everyMethodGetsItsParameters() throws {
        var settings = MetaSettings()
        settings.alpha = 0.3
        settings.iterations = 4
        settings.neumannAlpha = 0.5
        settings.baseUpdateAlongV = false
        settings.freezeMetaInputs = true
        for method in MetaMethod.allCases {
            settings.method = method
            let hypergradient = settings.hypergradient()
            #expect(hypergradient.method == method)
            #expect(hypergradient.learnsMeta == (method != .finetune))
        }
        settings.method = .darts
        #expect((settings.hypergradient() as? DARTS).map { ($0.alpha, $0.freezeMetaInputs) } ?? (0, false) == (0.3, true))
        settings.method = .sama
        let sama = try #require(settings.hypergradient() as? SAMA)
        #expect(sama.alpha == 0.3 && !sama.baseUpdateAlongV && sama.freezeMetaInputs)
        settings.method = .neumann
        let neumann = try #require(settings.hypergradient() as? Neumann)
        #expect(neumann.iterations == 4 && neumann.alpha == 0.5)
        settings.method = .cg
        #expect((settings.hypergradient() as? ConjugateGradient)?.iterations == 4)
    }

    @Test func valuesOutsideTheirRangesNameTheKey() {
        for (change, key) in [({ (s: inout MetaSettings) in s.alpha = .nan }, "meta.alpha"),
                              ({ (s: inout MetaSettings) in s.unroll = 0 }, "meta.unroll"),
                              ({ (s: inout MetaSettings) in s.learningRate = -1 }, "meta.learning_rate")] {
            var settings = MetaSettings()
            change(&settings)
            #expect { try settings.validate() } throws: { ($0 as? InvalidSetting)?.key == key }
        }
        #expect(throws: Never.self) { try MetaSettings().validate() }
    }
}
