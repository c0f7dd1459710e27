import Foundation

/// A configuration an application reads from a recipe.
///
/// Declare a struct whose properties all have defaults; that is the whole job:
///
///     struct Config: RecipeConfig {
///         var epochs = 10                     // YAML key `epochs`
///         var learningRate = 0.1              // YAML key `learning_rate`
///         var optimizer = Optimizer()         // a nested section; its keys default too
///         var method: Method = .sama          // `RecipeChoice` enums list valid values in errors
///         func validate() throws {
///             guard epochs > 0 else { throw InvalidSetting("epochs", "must be at least 1, got \(epochs)") }
///         }
///     }
///
/// Keys the recipe omits take the value from `init()`; keys the config does not have are errors that
/// name the file, line and closest valid key. `validate()` runs before any work starts.
public protocol RecipeConfig: Codable, Sendable {
    /// The defaults.
    init()
    /// Checks values that decode but make no sense (negative epochs, a fraction above 1). Throw `InvalidSetting`.
    func validate() throws
}

extension RecipeConfig {
    public func validate() throws {}
}

/// A string enum usable in recipes; a wrong value's error lists the valid ones and the closest match.
///
///     enum Method: String, RecipeChoice { case sama, neumann, finetune }
public protocol RecipeChoice: CaseIterable, RawRepresentable, Codable, Sendable where RawValue == String {}

extension RecipeChoice {
    static var choiceNames: [String] { allCases.map(\.rawValue) }
}

/// A recipe file with its `--set` overrides, ready to decode into an application's config.
///
/// A recipe is a YAML mapping. Its top level holds `application:` (which application runs), optionally
/// `seed:` (default 0) and `description:`, and the application's own keys.
public struct Recipe: Sendable {
    /// Keys every recipe may have at its top level, whatever the application.
    public static let envelopeKeys: Set<String> = ["application", "seed", "description"]

    /// The file the recipe came from (or a label such as "<inline>").
    public var source: String
    /// The recipe as written.
    public var text: String
    public var root: RecipeNode
    public var overrides: [RecipeOverride] = []

    public init(yaml: String, source: String) throws {
        self.source = source
        text = yaml
        root = try RecipeNode.parse(yaml: yaml, source: source)
        guard root.entries != nil || root.isNull else {
            throw RecipeError.invalidValue(
                key: "(recipe)", expected: "a mapping of keys such as 'application:'",
                found: root.kindDescription, origin: root.origin)
        }
        if root.isNull { root = RecipeNode(.mapping([]), origin: root.origin) }
    }

    /// Reads and parses a recipe file.
    public static func load(contentsOf path: String) throws -> Recipe {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RecipeError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw RecipeError.unreadable(path: path, reason: "it is a directory") }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RecipeError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try Recipe(yaml: text, source: path)
    }

    /// Adds `--set key=value` overrides (applied in order, later ones win).
    public mutating func apply(overrides texts: [String]) throws {
        overrides += try texts.map(RecipeOverride.init(parsing:))
        _ = try tree(defaults: nil)  // reject overrides that cannot apply (through a scalar, bad index) now
    }

    /// The recipe tree with the overrides applied.
    public func tree(defaults: RecipeNode?) throws -> RecipeNode {
        var tree = root
        for override in overrides { try tree.apply(override, defaults: defaults) }
        return tree
    }

    /// The `application:` name and where it was written.
    public func application() throws -> (name: String, origin: RecipeOrigin) {
        let tree = try tree(defaults: nil)
        guard let node = tree["application"] else { throw RecipeError.missingApplication(path: source) }
        guard let name = node.scalar, !node.isNull else {
            throw RecipeError.invalidValue(
                key: "application", expected: "an application name", found: node.kindDescription, origin: node.origin)
        }
        return (name, node.origin)
    }

    /// The `seed:` (default 0).
    public func seed() throws -> UInt64 {
        struct Envelope: Decodable { var seed: UInt64? }
        var decoder = RecipeTreeDecoder(defaults: nil)
        decoder.checkUnknownKeys = false
        return try decoder.decode(Envelope.self, from: tree(defaults: nil)).seed ?? 0
    }

    /// Decodes the application's keys into `Config`, filling defaults from `Config()`, rejecting unknown
    /// keys, then runs `validate()`.
    public func decode<Config: RecipeConfig>(_ type: Config.Type) throws -> Config {
        let defaults = try Recipe.defaultsTree(Config())
        let tree = try tree(defaults: defaults)
        var decoder = RecipeTreeDecoder(defaults: defaults)
        decoder.reservedRootKeys = Recipe.envelopeKeys
        let config = try decoder.decode(Config.self, from: tree)
        do {
            try config.validate()
        } catch let invalid as InvalidSetting {
            throw RecipeError.invalidSetting(key: invalid.key, reason: invalid.reason, origin: tree.origin(of: invalid.key))
        }
        return config
    }

    /// Decodes any `Decodable` (no defaults beyond what `defaults` provides), still rejecting unknown keys.
    public func decode<T: Decodable>(_ type: T.Type, defaults: RecipeNode? = nil) throws -> T {
        var decoder = RecipeTreeDecoder(defaults: defaults)
        decoder.reservedRootKeys = Recipe.envelopeKeys
        return try decoder.decode(T.self, from: tree(defaults: defaults))
    }

    /// The effective recipe: envelope plus every config value actually used (defaults included), as YAML.
    public static func effectiveYAML<Config: RecipeConfig>(application: String, seed: UInt64, config: Config) -> String {
        var entries: [RecipeNode.Entry] = [
            .init(key: "application", node: RecipeNode(.scalar(application, quoted: false), origin: .defaults), keyOrigin: .defaults),
            .init(key: "seed", node: RecipeNode(.scalar(String(seed), quoted: false), origin: .defaults), keyOrigin: .defaults),
        ]
        if let tree = try? defaultsTree(config), let configEntries = tree.entries { entries += configEntries }
        return RecipeNode(.mapping(entries), origin: .defaults).yaml()
    }

    /// A config value as a tree (keys in snake_case), used as the defaults when decoding.
    static func defaultsTree<Config: Encodable>(_ config: Config) throws -> RecipeNode {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .custom { path in PlainKey(stringValue: snakeCase(path.last!.stringValue)) }
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: ".inf", negativeInfinity: "-.inf", nan: ".nan")
        let data = try encoder.encode(config)
        let json = String(decoding: data, as: UTF8.self)
        return try RecipeNode.parse(yaml: json, source: "defaults").relabelled(.defaults).unquotingSpecialFloats()
    }
}

extension RecipeNode {
    /// Where the value at a dotted key was written (nil when it came from defaults).
    func origin(of key: String) -> RecipeOrigin? {
        var node: RecipeNode? = self
        for part in key.split(separator: ".") {
            guard let current = node else { return nil }
            if case .sequence(let items) = current.value, let index = Int(part), index < items.count {
                node = items[index]
            } else {
                node = current[String(part)]
            }
        }
        guard let origin = node?.origin, origin != .defaults else { return nil }
        return origin
    }

    /// JSON writes non-finite floats as strings; make them plain YAML floats again.
    func unquotingSpecialFloats() -> RecipeNode {
        var copy = self
        switch value {
        case .scalar(let text, true) where [".inf", "-.inf", ".nan"].contains(text):
            copy.value = .scalar(text, quoted: false)
        case .scalar: break
        case .sequence(let items): copy.value = .sequence(items.map { $0.unquotingSpecialFloats() })
        case .mapping(let entries):
            copy.value = .mapping(entries.map { Entry(key: $0.key, node: $0.node.unquotingSpecialFloats(), keyOrigin: $0.keyOrigin) })
        }
        return copy
    }
}
