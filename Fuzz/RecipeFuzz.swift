// libFuzzer entry point for the recipe decoder, compiled into the Recipes module by scripts/fuzz.sh (with Yams
// and its C parser built beside it). An input is a recipe text, optionally followed by a line `---set` and one
// `--set` override per line. It is parsed, the overrides applied, and the result decoded into a config with every
// kind of key the applications use (integers, floats, booleans, strings, choices, nested sections, lists,
// optionals) and validated. Every input must decode or throw a `RecipeError`/`InvalidSetting`; a crash, trap,
// hang or sanitizer report is a finding.
import Foundation

private enum FuzzChoice: String, RecipeChoice { case first, second = "second_choice" }

private struct FuzzConfig: RecipeConfig {
    struct Section: Codable, Sendable {
        var epochs = 8
        var rate: Float = 1e-3
        var ratio = 0.5
        var flag = false
        var name = "x"
        var seed: UInt64 = 0
        var widths = [64, 32]
        var limit: Int?
        var choice = FuzzChoice.first
    }
    var training = Section()
    var model = Section()
    var tags: [String] = []
    init() {}

    func validate() throws {
        guard training.epochs >= 1, training.epochs <= 1_000_000 else { throw InvalidSetting("training.epochs", "out of range") }
        guard training.rate.isFinite else { throw InvalidSetting("training.rate", "must be finite") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let parts = text.components(separatedBy: "\n---set\n")
    do {
        var recipe = try Recipe(yaml: parts[0], source: "fuzz.yaml")
        if parts.count > 1 { try recipe.apply(overrides: parts[1].split(separator: "\n").map(String.init)) }
        _ = try? recipe.application()
        _ = try? recipe.seed()
        let config = try recipe.decode(FuzzConfig.self)
        _ = Recipe.effectiveYAML(application: "fuzz", seed: 0, config: config)
    } catch is RecipeError {
        // A clear error is the expected outcome for bad input.
    } catch is InvalidSetting {
    } catch {
        fatalError("recipe: an error that is neither a RecipeError nor an InvalidSetting: \(error)")
    }
    return 0
}
