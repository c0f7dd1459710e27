import Foundation
import Yams

/// A recipe as a tree: YAML parsed by Yams, then overridden by `--set`, then decoded into a config type.
/// Every node remembers where it came from so errors can name the file and line.
public struct RecipeNode: Sendable, Equatable {
    public indirect enum Value: Sendable, Equatable {
        /// A scalar as written; `quoted` scalars are always strings, never null.
        case scalar(String, quoted: Bool)
        case sequence([RecipeNode])
        /// Keys in the order written.
        case mapping([Entry])
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var node: RecipeNode
        /// Where the key itself was written.
        public var keyOrigin: RecipeOrigin
    }

    public var value: Value
    public var origin: RecipeOrigin

    public init(_ value: Value, origin: RecipeOrigin) {
        self.value = value
        self.origin = origin
    }

    public var isNull: Bool {
        if case .scalar(let text, let quoted) = value, !quoted {
            return ["", "~", "null", "Null", "NULL"].contains(text)
        }
        return false
    }

    public var scalar: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    public var entries: [Entry]? {
        if case .mapping(let entries) = value { return entries }
        return nil
    }

    public subscript(key: String) -> RecipeNode? {
        entries?.first { $0.key == key }?.node
    }

    /// A short description of the node's shape, for "found …" in messages.
    var kindDescription: String {
        switch value {
        case .scalar(let text, _): return isNull ? "nothing (null)" : "'\(text)'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    // MARK: YAML

    /// Parses YAML text. `source` names the file in errors.
    public static func parse(yaml: String, source: String) throws -> RecipeNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw syntaxError(error, source: source)
        }
        guard let node else { return RecipeNode(.mapping([]), origin: .file(path: source, line: 1)) }
        return try convert(node, source: source)
    }

    private static func syntaxError(_ error: YamlError, source: String) -> RecipeError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let text = context.map { "\($0.text) " } ?? ""
            return .syntax(path: source, line: mark.line, column: mark.column, problem: text + problem)
        default:
            return .syntax(path: source, line: 0, column: 0, problem: "\(error)")
        }
    }

    private static func convert(_ node: Node, source: String) throws -> RecipeNode {
        let origin = RecipeOrigin.file(path: source, line: node.mark?.line ?? 0)
        switch node {
        case .scalar(let scalar):
            let quoted =
                scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                || scalar.style == .literal || scalar.style == .folded
            return RecipeNode(.scalar(scalar.string, quoted: quoted), origin: origin)
        case .sequence(let sequence):
            return RecipeNode(.sequence(try sequence.map { try convert($0, source: source) }), origin: origin)
        case .mapping(let mapping):
            var entries: [Entry] = []
            for (keyNode, valueNode) in mapping {
                let keyOrigin = RecipeOrigin.file(path: source, line: keyNode.mark?.line ?? 0)
                guard case .scalar(let keyScalar) = keyNode else {
                    throw RecipeError.invalidValue(
                        key: "(mapping key)", expected: "a plain key", found: "a nested structure", origin: keyOrigin)
                }
                if entries.contains(where: { $0.key == keyScalar.string }) {
                    throw RecipeError.invalidValue(
                        key: keyScalar.string, expected: "each key once", found: "a duplicate key", origin: keyOrigin)
                }
                entries.append(Entry(key: keyScalar.string, node: try convert(valueNode, source: source), keyOrigin: keyOrigin))
            }
            return RecipeNode(.mapping(entries), origin: origin)
        case .alias:
            throw RecipeError.invalidValue(key: "(alias)", expected: "plain values", found: "a YAML alias", origin: origin)
        }
    }

    /// The tree as YAML text (used to record the effective recipe of a run).
    public func yaml() -> String {
        (try? Yams.serialize(node: yamsNode(), sortKeys: false)) ?? ""
    }

    func yamsNode() -> Node {
        switch value {
        case .scalar(let text, let quoted):
            return Node(text, .implicit, quoted ? .doubleQuoted : .plain)
        case .sequence(let items):
            return Node(items.map { $0.yamsNode() })
        case .mapping(let entries):
            return Node(entries.map { (Node($0.key), $0.node.yamsNode()) })
        }
    }
}
