import Foundation
import Testing
@testable import Benchmarks
@testable import Classification
@testable import NoisyLabels
@testable import Recipes
@testable import Runtime

/// Every recipe under `Recipes/` names a built-in application, uses only its keys, and passes its checks:
/// a typo in a shipped recipe fails here, not minutes into somebody's run.
@Suite struct ShippedRecipesTests {
    static let recipesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Recipes")

    static func recipePaths() throws -> [String] {
        let enumerator = try #require(FileManager.default.enumerator(at: recipesDirectory, includingPropertiesForKeys: nil))
        return enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "yaml" }.map(\.path).sorted()
    }

    /// Decodes and validates `recipe` as `application`'s configuration.
    static func check<A: WinnowApplication>(_ application: A.Type, _ recipe: Recipe) throws {
        _ = try recipe.decode(A.Config.self)
        _ = try recipe.seed()
    }

    @Test func everyShippedRecipeDecodesAndValidates() throws {
        let paths = try Self.recipePaths()
        #expect(paths.count >= 16, "found \(paths.count) recipes under \(Self.recipesDirectory.path)")
        for path in paths {
            do {
                let recipe = try Recipe.load(contentsOf: path)
                let (name, origin) = try recipe.application()
                try Self.check(try ApplicationRegistry.builtIn.lookup(name, origin: origin), recipe)
            } catch {
                Issue.record("\(path): \(error.localizedDescription)")
            }
        }
    }
}
