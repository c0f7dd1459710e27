import Foundation

/// Where a recipe value came from, for error messages: a line of a file, a `--set` override, or the
/// config type's defaults.
public enum RecipeOrigin: Sendable, Equatable, CustomStringConvertible {
    case file(path: String, line: Int)
    case override(String)
    case defaults

    public var description: String {
        switch self {
        case .file(let path, let line): return "\(path):\(line)"
        case .override(let text): return "--set \(text)"
        case .defaults: return "defaults"
        }
    }
}

/// Everything wrong with a recipe or its overrides. These are usage errors: `winnow` exits with status 2.
public enum RecipeError: Error, LocalizedError, Equatable, Sendable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case syntax(path: String, line: Int, column: Int, problem: String)
    case unknownKey(key: String, origin: RecipeOrigin, suggestion: String?)
    case invalidValue(key: String, expected: String, found: String, origin: RecipeOrigin)
    case missingKey(key: String, origin: RecipeOrigin)
    case badOverride(text: String, reason: String)
    case missingApplication(path: String)
    case unknownApplication(name: String, origin: RecipeOrigin, available: [String], suggestion: String?)
    case invalidSetting(key: String, reason: String, origin: RecipeOrigin?)

    public var errorDescription: String? {
        switch self {
        case .fileNotFound(let path):
            return "recipe file \(path) does not exist"
        case .unreadable(let path, let reason):
            return "cannot read recipe \(path): \(reason)"
        case .syntax(let path, let line, let column, let problem):
            return "\(path):\(line):\(column): invalid YAML: \(problem)"
        case .unknownKey(let key, let origin, let suggestion):
            return "\(origin): unknown key '\(key)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        case .invalidValue(let key, let expected, let found, let origin):
            return "\(origin): '\(key)' expects \(expected), found \(found)"
        case .missingKey(let key, let origin):
            return "\(origin): missing required key '\(key)'"
        case .badOverride(let text, let reason):
            return "--set \(text): \(reason)"
        case .missingApplication(let path):
            return "\(path): the recipe has no top-level 'application:' key"
        case .unknownApplication(let name, let origin, let available, let suggestion):
            return "\(origin): unknown application '\(name)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                + "; available: " + (available.isEmpty ? "none" : available.joined(separator: ", "))
        case .invalidSetting(let key, let reason, let origin):
            return (origin.map { "\($0): " } ?? "") + "'\(key)' \(reason)"
        }
    }
}

/// Thrown from `RecipeConfig.validate()` to reject a setting; the loader adds the file and line.
/// Example: `throw InvalidSetting("training.epochs", "must be at least 1, got \(epochs)")`.
public struct InvalidSetting: Error, LocalizedError, Sendable {
    public var key: String
    public var reason: String
    public init(_ key: String, _ reason: String) {
        self.key = key
        self.reason = reason
    }
    public var errorDescription: String? { "'\(key)' \(reason)" }
}

/// Levenshtein distance, for "did you mean" suggestions.
package enum EditDistance {
    package static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The closest candidate, if it is close enough to be a plausible typo.
    package static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let distance = between(word, candidate)
            if best == nil || distance < best!.1 || (distance == best!.1 && candidate < best!.0) {
                best = (candidate, distance)
            }
        }
        guard let (candidate, distance) = best else { return nil }
        let limit = max(2, min(word.count, candidate.count) / 3)
        return distance <= limit ? candidate : nil
    }
}
