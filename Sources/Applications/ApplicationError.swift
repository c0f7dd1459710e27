import Foundation

/// Errors an application raises on its input, each naming the file and the sample.
public enum ApplicationError: Error, LocalizedError, Equatable {
    case invalidRecord(path: String, id: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidRecord(path, id, reason): "\(path): sample '\(id)' \(reason)"
        }
    }
}
