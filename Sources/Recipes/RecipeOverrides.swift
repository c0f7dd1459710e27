import Foundation
import Yams

/// One `--set dotted.key=value` override. The value is read as YAML, so `3`, `0.1`, `true`, `"3"` (a string),
/// `[64, 32]` and `{a: 1}` all work; the config type decides how a scalar is interpreted.
public struct RecipeOverride: Sendable, Equatable {
    public var text: String
    public var path: [String]
    public var value: RecipeNode

    public init(parsing text: String) throws {
        self.text = text
        guard let equals = text.firstIndex(of: "=") else {
            throw RecipeError.badOverride(text: text, reason: "expected key=value, for example --set training.epochs=5")
        }
        let key = text[..<equals].trimmingCharacters(in: .whitespaces)
        let rawValue = String(text[text.index(after: equals)...])
        path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !key.isEmpty, !path.contains(where: \.isEmpty) else {
            throw RecipeError.badOverride(text: text, reason: "'\(key)' is not a dotted key such as optimizer.learning_rate")
        }
        let origin = RecipeOrigin.override(text)
        if let parsed = try? RecipeNode.parse(yaml: rawValue, source: "--set"), !rawValue.trimmingCharacters(in: .whitespaces).isEmpty {
            value = parsed.relabelled(origin)
        } else {
            value = RecipeNode(.scalar(rawValue, quoted: false), origin: origin)
        }
    }

    public var key: String { path.joined(separator: ".") }
}

extension RecipeNode {
    func relabelled(_ origin: RecipeOrigin) -> RecipeNode {
        var copy = self
        copy.origin = origin
        switch value {
        case .scalar: break
        case .sequence(let items): copy.value = .sequence(items.map { $0.relabelled(origin) })
        case .mapping(let entries):
            copy.value = .mapping(entries.map { Entry(key: $0.key, node: $0.node.relabelled(origin), keyOrigin: origin) })
        }
        return copy
    }

    /// Sets `override.value` at `override.path`, creating mappings on the way. `defaults` is the config's
    /// default tree: a list that exists only there is copied in first, so `--set layers.1=64` works.
    mutating func apply(_ override: RecipeOverride, defaults: RecipeNode?) throws {
        try set(override.path[...], to: override.value, override: override, defaults: defaults, walked: [])
    }

    private mutating func set(
        _ path: ArraySlice<String>, to newValue: RecipeNode, override: RecipeOverride,
        defaults: RecipeNode?, walked: [String]
    ) throws {
        guard let head = path.first else {
            self = newValue
            return
        }
        let rest = path.dropFirst()
        let here = (walked + [head]).joined(separator: ".")
        switch value {
        case .mapping(var entries):
            let defaultChild = defaults?[head]
            if let index = entries.firstIndex(where: { $0.key == head }) {
                try entries[index].node.set(rest, to: newValue, override: override, defaults: defaultChild, walked: walked + [head])
            } else {
                var child: RecipeNode
                if let defaultChild, case .sequence = defaultChild.value, !rest.isEmpty {
                    child = defaultChild.relabelled(.override(override.text))
                } else {
                    child = RecipeNode(.mapping([]), origin: .override(override.text))
                }
                try child.set(rest, to: newValue, override: override, defaults: defaultChild, walked: walked + [head])
                entries.append(Entry(key: head, node: child, keyOrigin: .override(override.text)))
            }
            value = .mapping(entries)
        case .sequence(var items):
            guard let index = Int(head), index >= 0, index <= items.count else {
                throw RecipeError.badOverride(
                    text: override.text,
                    reason: "'\(walked.joined(separator: "."))' is a list of \(items.count) items; '\(head)' is not an index into it")
            }
            let defaultItem: RecipeNode? = {
                if case .sequence(let defaultItems)? = defaults?.value, index < defaultItems.count { return defaultItems[index] }
                return nil
            }()
            if index == items.count {
                var item = RecipeNode(.mapping([]), origin: .override(override.text))
                try item.set(rest, to: newValue, override: override, defaults: defaultItem, walked: walked + [head])
                items.append(item)
            } else {
                try items[index].set(rest, to: newValue, override: override, defaults: defaultItem, walked: walked + [head])
            }
            value = .sequence(items)
        case .scalar:
            guard isNull else {
                let parent = walked.joined(separator: ".")
                throw RecipeError.badOverride(
                    text: override.text,
                    reason: "'\(parent)' is a single value, so it has no key '\(head)' (cannot set '\(here)')")
            }
            self = RecipeNode(.mapping([]), origin: .override(override.text))
            try set(path, to: newValue, override: override, defaults: defaults, walked: walked)
        }
    }
}
