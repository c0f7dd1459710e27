import Foundation

/// Decodes a `RecipeNode` tree into any `Decodable` type.
///
/// - Keys: a Swift property `learningRate` is written `learning_rate` in YAML (camelCase → snake_case).
/// - Defaults: a key missing from the recipe is read from `defaults` (a tree of the same shape, usually the
///   encoded `init()` of the config), so config types need no hand-written `init(from:)`.
/// - Unknown keys: the decoder records every key the type asks for; afterwards any key in the recipe that
///   nobody asked for is an error naming the key, where it was written, and the closest valid key.
/// - Scalars are interpreted by the type asking (`3` is an Int for an Int field, a String for a String field).
struct RecipeTreeDecoder {
    var defaults: RecipeNode?
    /// Keys accepted at the root without the config asking for them (the recipe envelope).
    var reservedRootKeys: Set<String> = []
    /// Off only for reading part of a recipe (its envelope) while the rest is someone else's business.
    var checkUnknownKeys = true

    func decode<T: Decodable>(_ type: T.Type, from root: RecipeNode) throws -> T {
        let tracker = KeyTracker()
        tracker.requested[""] = reservedRootKeys
        let decoder = NodeDecoder(slot: Slot(user: root, defaults: defaults), keyPath: [], tracker: tracker)
        let value: T
        do {
            value = try decoder.decodeValue(T.self)
        } catch RecipeError.missingKey(let key, let origin) where checkUnknownKeys {
            // A required key missing next to an unrecognised one is almost always a typo of it.
            if let typo = tracker.unknownKeys().first(where: { EditDistance.closest(to: $0.key, in: [key]) != nil }) {
                throw RecipeError.unknownKey(key: typo.key, origin: typo.origin, suggestion: key)
            }
            throw RecipeError.missingKey(key: key, origin: origin)
        }
        if checkUnknownKeys, let unknown = tracker.unknownKeys().first {
            throw RecipeError.unknownKey(key: unknown.key, origin: unknown.origin, suggestion: unknown.suggestion)
        }
        return value
    }
}

/// camelCase → snake_case, keeping acronyms together: `learningRate` → `learning_rate`, `useURLCache` → `use_url_cache`.
func snakeCase(_ key: String) -> String {
    let characters = Array(key)
    var out = ""
    for (i, c) in characters.enumerated() {
        if c.isUppercase, i > 0 {
            let previous = characters[i - 1]
            let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
            if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { out.append("_") }
        }
        out.append(contentsOf: c.lowercased())
    }
    return out
}

/// The user's node at a path and the default node at the same path; either may be absent.
struct Slot {
    var user: RecipeNode?
    var defaults: RecipeNode?
    var node: RecipeNode? { user ?? defaults }
}

final class KeyTracker {
    struct Unknown { var key: String; var origin: RecipeOrigin; var suggestion: String? }
    /// Dotted path of a mapping → YAML keys the decoding types asked for there.
    var requested: [String: Set<String>] = [:]
    /// Dotted path → the user's mapping entries there and the default keys (for suggestions).
    var opened: [String: (entries: [RecipeNode.Entry], defaultKeys: [String])] = [:]
    /// Dotted path → keys a type listing `allKeys` could not map to its coding keys (say, an unknown enum case).
    var unmatched: [String: [RecipeNode.Entry]] = [:]

    func unknownKeys() -> [Unknown] {
        var unknown: [(line: Int, Unknown)] = []
        for (path, mapping) in opened {
            let asked = requested[path, default: []]
            for entry in mapping.entries where !asked.contains(entry.key) {
                let prefix = path.isEmpty ? "" : path + "."
                // Keys the user also wrote stay candidates: `--set training.epoch=3` on a file with `epochs` means `epochs`.
                let candidates = asked.union(mapping.defaultKeys).subtracting([entry.key])
                let suggestion = EditDistance.closest(to: entry.key, in: candidates.sorted()).map { prefix + $0 }
                var line = Int.max
                if case .file(_, let l) = entry.keyOrigin { line = l }
                unknown.append((line, Unknown(key: prefix + entry.key, origin: entry.keyOrigin, suggestion: suggestion)))
            }
        }
        return unknown.sorted { ($0.line, $0.1.key) < ($1.line, $1.1.key) }.map(\.1)
    }
}

struct PlainKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

struct NodeDecoder: Decoder {
    let slot: Slot
    let keyPath: [String]
    let tracker: KeyTracker
    var codingPath: [CodingKey] { keyPath.map { PlainKey(stringValue: $0) } }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var path: String { keyPath.joined(separator: ".") }
    var displayKey: String { keyPath.isEmpty ? "(recipe)" : path }
    var origin: RecipeOrigin { slot.node?.origin ?? .defaults }

    func child(_ key: String, _ slot: Slot) -> NodeDecoder {
        NodeDecoder(slot: slot, keyPath: keyPath + [key], tracker: tracker)
    }

    func mismatch(_ expected: String) -> RecipeError {
        .invalidValue(key: displayKey, expected: expected, found: slot.node?.kindDescription ?? "nothing", origin: origin)
    }

    /// Decodes `T` here, turning errors thrown by the type's own `init(from:)` into recipe errors.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let choice = T.self as? any RecipeChoice.Type, let text = slot.node?.scalar {
            let names = choice.choiceNames
            if !names.contains(text) {
                let hint = EditDistance.closest(to: text, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw RecipeError.invalidValue(
                    key: displayKey, expected: "one of " + names.joined(separator: ", "),
                    found: "'\(text)'\(hint)", origin: origin)
            }
        }
        do {
            return try T(from: self)
        } catch let error as DecodingError {
            if let entry = tracker.unmatched[path]?.first {
                let defaults = slot.defaults?.entries?.map(\.key) ?? []
                let prefix = keyPath.isEmpty ? "" : path + "."
                throw RecipeError.unknownKey(
                    key: prefix + entry.key, origin: entry.keyOrigin,
                    suggestion: EditDistance.closest(to: entry.key, in: defaults).map { prefix + $0 })
            }
            switch error {
            case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                throw RecipeError.invalidValue(
                    key: displayKey, expected: "a valid \(T.self)",
                    found: "\(slot.node?.kindDescription ?? "nothing") (\(context.debugDescription))", origin: origin)
            case .keyNotFound(let key, _):
                throw RecipeError.missingKey(key: keyPath.isEmpty ? key.stringValue : path + "." + key.stringValue, origin: origin)
            @unknown default:
                throw error
            }
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        var user: [RecipeNode.Entry]?
        if let node = slot.user, !node.isNull {
            guard let entries = node.entries else { throw mismatch("a mapping (a section of keys)") }
            user = entries
        }
        let defaults = slot.defaults?.entries
        if user == nil, defaults == nil, slot.user == nil, slot.defaults != nil, !(slot.defaults!.isNull) {
            throw mismatch("a mapping (a section of keys)")
        }
        if let user {
            let previous = tracker.opened[path]
            tracker.opened[path] = (user, (defaults ?? []).map(\.key) + (previous?.defaultKeys ?? []))
        }
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(decoder: self, user: user, defaults: defaults))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard let node = slot.node else { throw mismatch("a list") }
        guard case .sequence(let items) = node.value else {
            if node.isNull { return NodeUnkeyedContainer(decoder: self, items: [], fromUser: slot.user != nil) }
            throw mismatch("a list")
        }
        return NodeUnkeyedContainer(decoder: self, items: items, fromUser: slot.user != nil)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { NodeSingleValue(decoder: self) }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let user: [RecipeNode.Entry]?
    let defaults: [RecipeNode.Entry]?
    var codingPath: [CodingKey] { decoder.codingPath }

    private func yamlKey(_ key: Key) -> String { snakeCase(key.stringValue) }

    /// Finds the key (in snake_case, or as spelled) in the user's mapping, then in the defaults.
    private func lookup(_ key: Key) -> (String, Slot)? {
        let names = [yamlKey(key), key.stringValue]
        decoder.tracker.requested[decoder.path, default: []].formUnion(names)
        for name in names {
            let userNode = user?.first { $0.key == name }?.node
            let defaultNode = defaults?.first { $0.key == name }?.node
            if userNode != nil || defaultNode != nil { return (name, Slot(user: userNode, defaults: defaultNode)) }
        }
        return nil
    }

    var allKeys: [Key] {
        let entries = user ?? defaults ?? []
        decoder.tracker.requested[decoder.path, default: []].formUnion(entries.map(\.key))
        var keys: [Key] = []
        for entry in entries {
            if let key = Key(stringValue: entry.key) ?? Key(stringValue: camelCase(entry.key)) {
                keys.append(key)
            } else {
                decoder.tracker.unmatched[decoder.path, default: []].append(entry)
            }
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let (_, slot) = lookup(key) else { return true }
        return slot.node?.isNull ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let (name, slot) = lookup(key) else {
            let full = decoder.keyPath.isEmpty ? yamlKey(key) : decoder.path + "." + yamlKey(key)
            throw RecipeError.missingKey(key: full, origin: decoder.origin)
        }
        return try decoder.child(name, slot).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let (name, slot) = lookup(key) ?? (yamlKey(key), Slot())
        return try decoder.child(name, slot).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        let (name, slot) = lookup(key) ?? (yamlKey(key), Slot())
        return try decoder.child(name, slot).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { decoder }

    func superDecoder(forKey key: Key) throws -> Decoder {
        let (name, slot) = lookup(key) ?? (yamlKey(key), Slot())
        return decoder.child(name, slot)
    }
}

func camelCase(_ key: String) -> String {
    let parts = key.split(separator: "_")
    guard let first = parts.first else { return key }
    return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [RecipeNode]
    let fromUser: Bool
    var currentIndex = 0
    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(decoder: NodeDecoder, items: [RecipeNode], fromUser: Bool) {
        self.decoder = decoder
        self.items = items
        self.fromUser = fromUser
    }

    private mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else {
            throw RecipeError.invalidValue(
                key: decoder.displayKey, expected: "more items", found: "a list of \(items.count)", origin: decoder.origin)
        }
        let item = items[currentIndex]
        let slot = fromUser ? Slot(user: item, defaults: nil) : Slot(user: nil, defaults: item)
        defer { currentIndex += 1 }
        return decoder.child(String(currentIndex), slot)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return true }
        if items[currentIndex].isNull { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> Decoder { try next() }
}

struct NodeSingleValue: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { decoder.codingPath }

    private func text(_ expected: String) throws -> (String, quoted: Bool) {
        guard let node = decoder.slot.node else {
            throw RecipeError.missingKey(key: decoder.displayKey, origin: decoder.origin)
        }
        guard case .scalar(let text, let quoted) = node.value, !node.isNull else { throw decoder.mismatch(expected) }
        return (text, quoted)
    }

    func decodeNil() -> Bool { decoder.slot.node?.isNull ?? true }

    func decode(_ type: Bool.Type) throws -> Bool {
        let (text, _) = try text("true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw decoder.mismatch("true or false")
        }
    }

    func decode(_ type: String.Type) throws -> String { try text("a string").0 }

    private func float(_ name: String) throws -> Double {
        let (text, _) = try text(name)
        switch text.lowercased() {
        case ".inf", "+.inf", "inf": return .infinity
        case "-.inf", "-inf": return -.infinity
        case ".nan", "nan": return .nan
        default:
            guard let value = Double(text.replacingOccurrences(of: "_", with: "")) else { throw decoder.mismatch(name) }
            return value
        }
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let (text, _) = try text("an integer")
        let cleaned = text.replacingOccurrences(of: "_", with: "")
        if let value = I(cleaned) { return value }
        // Accept `1e3` or `2.0` when they are whole numbers in range.
        if let double = Double(cleaned), double.rounded() == double, let value = I(exactly: double) { return value }
        if let double = Double(cleaned), double.rounded() == double {
            throw decoder.mismatch("an integer between \(I.min) and \(I.max)")
        }
        throw decoder.mismatch("an integer")
    }

    func decode(_ type: Double.Type) throws -> Double { try float("a number") }
    func decode(_ type: Float.Type) throws -> Float { Float(try float("a number")) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}
