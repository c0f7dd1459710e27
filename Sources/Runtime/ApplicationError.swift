import Foundation
import Recipes

/// Errors an application raises on its input, each naming the file and the sample.
public enum ApplicationError: Error, LocalizedError, Equatable {
    case invalidRecord(path: String, id: String, reason: String)
    /// An output file or folder that cannot be written.
    case unwritable(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidRecord(path, id, reason): "\(path): sample '\(id)' \(reason)"
        case let .unwritable(path, reason): "\(path): cannot write (\(reason))"
        }
    }
}
