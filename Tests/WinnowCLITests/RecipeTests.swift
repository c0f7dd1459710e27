import Foundation
import Testing
@testable import Recipes
@testable import Runtime

@Suite struct RecipeTests {
    typealias Config = EchoStats.Config

    func decode(_ yaml: String, overrides: [String] = [], source: String = "Recipes/test.yaml") throws -> Config {
        var recipe = try Recipe(yaml: yaml, source: source)
        try recipe.apply(overrides: overrides)
        return try recipe.decode(Config.self)
    }

    @Test func defaultsFillMissingKeys() throws {
        let config = try decode("application: echo-stats\ntraining:\n  scale: 2.5\n")
        var expected = Config()
        expected.training.scale = 2.5
        #expect(config == expected)
        #expect(try decode("application: echo-stats\n") == Config())
    }

    @Test func snakeCaseKeysAndTypedScalars() throws {
        let config = try decode(
            """
            application: echo-stats
            values: [1, 2.5, 1e3]
            fail_at_step: 2
            label: 123
            reduction: sum
            """)
        #expect(config.values == [1, 2.5, 1000])
        #expect(config.failAtStep == 2)
        #expect(config.label == "123")  // a String field reads a number-looking scalar as text
        #expect(config.reduction == .sum)
    }

    @Test func typoedKeyNamesKeyFileLineAndSuggestion() throws {
        let yaml = "application: echo-stats\ntraining:\n  steps: 2\n  scael: 3\n"
        let error = try #require(throws: RecipeError.self) { try decode(yaml) }
        #expect(
            error == .unknownKey(key: "training.scael", origin: .file(path: "Recipes/test.yaml", line: 4), suggestion: "training.scale"))
        #expect(error.localizedDescription == "Recipes/test.yaml:4: unknown key 'training.scael' (did you mean 'training.scale'?)")
        // Top level too, and a key far from every valid one gets no suggestion.
        let top = try #require(throws: RecipeError.self) { try decode("application: echo-stats\nvalus: [1]\n") }
        #expect(top == .unknownKey(key: "valus", origin: .file(path: "Recipes/test.yaml", line: 2), suggestion: "values"))
        let far = try #require(throws: RecipeError.self) { try decode("application: echo-stats\nzzzzzzzz: 1\n") }
        #expect(far == .unknownKey(key: "zzzzzzzz", origin: .file(path: "Recipes/test.yaml", line: 2), suggestion: nil))
    }

    @Test func overridesAreTyped() throws {
        let config = try decode(
            "application: echo-stats\n",
            overrides: [
                "training.steps=7", "training.scale=0.5", "values=[3, 4]", "fail_at_step=5", "label=\"42\"", "reduction=sum",
            ])
        #expect(config.training == EchoStats.Training(steps: 7, scale: 0.5))
        #expect(config.values == [3, 4])
        #expect(config.failAtStep == 5)
        #expect(config.label == "42")
        #expect(config.reduction == .sum)
        // Later overrides win; list items can be set by index (the default list is copied in first).
        let indexed = try decode("application: echo-stats\n", overrides: ["values.1=9", "training.steps=1", "training.steps=2"])
        #expect(indexed.values == [1, 9, 3, 4])
        #expect(indexed.training.steps == 2)
    }

    @Test func badOverrideKey() throws {
        let error = try #require(throws: RecipeError.self) {
            try decode("application: echo-stats\n", overrides: ["trainig.steps=3"])
        }
        #expect(error == .unknownKey(key: "trainig", origin: .override("trainig.steps=3"), suggestion: "training"))
        #expect(error.localizedDescription.contains("--set trainig.steps=3"))
        let nested = try #require(throws: RecipeError.self) {
            try decode("application: echo-stats\n", overrides: ["training.stpes=3"])
        }
        #expect(nested == .unknownKey(key: "training.stpes", origin: .override("training.stpes=3"), suggestion: "training.steps"))
        // Malformed overrides and overrides through a single value.
        #expect(throws: RecipeError.self) { try decode("application: echo-stats\n", overrides: ["no-equals-sign"]) }
        #expect(throws: RecipeError.self) { try decode("application: echo-stats\n", overrides: ["a..b=1"]) }
        let through = try #require(throws: RecipeError.self) {
            try decode("application: echo-stats\nlabel: x\n", overrides: ["label.inner=1"])
        }
        #expect(through.localizedDescription.contains("'label' is a single value"))
    }

    @Test func badValueType() throws {
        let error = try #require(throws: RecipeError.self) {
            try decode("application: echo-stats\ntraining:\n  steps: many\n")
        }
        #expect(
            error
                == .invalidValue(
                    key: "training.steps", expected: "an integer", found: "'many'", origin: .file(path: "Recipes/test.yaml", line: 3)))
        let fromOverride = try #require(throws: RecipeError.self) {
            try decode("application: echo-stats\n", overrides: ["training.scale=fast"])
        }
        #expect(
            fromOverride
                == .invalidValue(key: "training.scale", expected: "a number", found: "'fast'", origin: .override("training.scale=fast")))
        let fraction = try #require(throws: RecipeError.self) { try decode("application: echo-stats\ntraining: {steps: 2.5}\n") }
        #expect(fraction.localizedDescription.contains("expects an integer"))
        let section = try #require(throws: RecipeError.self) { try decode("application: echo-stats\ntraining: 3\n") }
        #expect(section.localizedDescription.contains("'training' expects a mapping"))
        let choice = try #require(throws: RecipeError.self) { try decode("application: echo-stats\nreduction: meen\n") }
        #expect(
            choice.localizedDescription == "Recipes/test.yaml:2: 'reduction' expects one of mean, sum, found 'meen' (did you mean 'mean'?)")
    }

    @Test func validationNamesKeyAndLine() throws {
        let error = try #require(throws: RecipeError.self) {
            try decode("application: echo-stats\ntraining:\n  steps: 0\n")
        }
        #expect(
            error
                == .invalidSetting(
                    key: "training.steps", reason: "must be at least 1, got 0", origin: .file(path: "Recipes/test.yaml", line: 3)))
    }

    @Test func missingAndBrokenRecipeFiles() throws {
        let dir = try TemporaryDirectory()
        let missing = dir.path("absent.yaml")
        #expect(throws: RecipeError.fileNotFound(path: missing)) { try Recipe.load(contentsOf: missing) }
        let broken = try dir.write("broken.yaml", "application: [unclosed\n")
        let error = try #require(throws: RecipeError.self) { try Recipe.load(contentsOf: broken) }
        guard case .syntax(let path, _, _, _) = error else { Issue.record("got \(error)"); return }
        #expect(path == broken)
        let list = try dir.write("list.yaml", "- a\n- b\n")
        #expect(throws: RecipeError.self) { try Recipe.load(contentsOf: list) }
    }

    @Test func applicationAndSeed() throws {
        var recipe = try Recipe(yaml: "application: echo-stats\nseed: 11\n", source: "r.yaml")
        #expect(try recipe.application().name == "echo-stats")
        #expect(try recipe.seed() == 11)
        try recipe.apply(overrides: ["seed=12"])
        #expect(try recipe.seed() == 12)
        let none = try Recipe(yaml: "values: [1]\n", source: "r.yaml")
        #expect(throws: RecipeError.missingApplication(path: "r.yaml")) { try none.application() }
        let unknown = try #require(throws: RecipeError.self) {
            try testRegistry.lookup("echo-stat", origin: .file(path: "r.yaml", line: 1))
        }
        #expect(
            unknown.localizedDescription == "r.yaml:1: unknown application 'echo-stat' (did you mean 'echo-stats'?); available: echo-stats")
    }

    @Test func effectiveRecipeRoundTrips() throws {
        var config = Config()
        config.training.steps = 9
        config.label = "yes"  // a string that YAML would otherwise read as a bool
        let yaml = Recipe.effectiveYAML(application: "echo-stats", seed: 5, config: config)
        let recipe = try Recipe(yaml: yaml, source: "effective")
        #expect(try recipe.decode(Config.self) == config)
        #expect(try recipe.seed() == 5)
    }

    @Test func snakeCaseConversion() {
        #expect(snakeCase("learningRate") == "learning_rate")
        #expect(snakeCase("useURLCache") == "use_url_cache")
        #expect(snakeCase("l2Penalty") == "l2_penalty")
        #expect(snakeCase("steps") == "steps")
        #expect(EditDistance.between("kitten", "sitting") == 3)
    }
}

/// Enums with associated values (say, the hypergradient method) decode from `{case: {label: value}}`; values
/// the recipe leaves out come from the default when it is the same case.
@Suite struct RecipeEnumTests {
    enum Method: Codable, Sendable, Equatable {
        case finetune
        case neumann(iterations: Int, alpha: Double)
    }

    struct Config: RecipeConfig, Equatable {
        var method = Method.neumann(iterations: 3, alpha: 0.5)
    }

    func decode(_ yaml: String, _ overrides: [String] = []) throws -> Config {
        var recipe = try Recipe(yaml: "application: x\n" + yaml, source: "m.yaml")
        try recipe.apply(overrides: overrides)
        return try recipe.decode(Config.self)
    }

    @Test func associatedValues() throws {
        #expect(try decode("") == Config())
        #expect(try decode("method: {neumann: {iterations: 9}}").method == .neumann(iterations: 9, alpha: 0.5))
        #expect(try decode("method: {finetune: {}}").method == .finetune)
        #expect(try decode("", ["method.neumann.alpha=0.25"]).method == .neumann(iterations: 3, alpha: 0.25))
        let typo = try #require(throws: RecipeError.self) { try decode("method: {neumann: {iteratoins: 9}}") }
        #expect(
            typo
                == .unknownKey(
                    key: "method.neumann.iteratoins", origin: .file(path: "m.yaml", line: 2), suggestion: "method.neumann.iterations"))
        #expect(throws: RecipeError.unknownKey(key: "method.newton", origin: .file(path: "m.yaml", line: 2), suggestion: nil)) {
            try decode("method: {newton: {}}")
        }
        #expect(throws: RecipeError.unknownKey(key: "method.neuman", origin: .file(path: "m.yaml", line: 2), suggestion: "method.neumann"))
        {
            try decode("method: {neuman: {}}")
        }
    }
}
