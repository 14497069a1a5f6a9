import Foundation

/// Every failure the core library reports. `description` is one line that names the file (or
/// tensor, or flag) and the problem, so the CLI can print it as is.
public enum QQQError: Error, CustomStringConvertible, Equatable {
    /// A file is missing, unreadable, truncated or malformed.
    case badFile(path: String, reason: String)
    /// A tensor is missing, or has the wrong dtype or shape.
    case badTensor(path: String, tensor: String, reason: String)
    /// The checkpoint's architecture or an option is not supported.
    case unsupported(String)
    /// Input (text, flags given through the API) does not satisfy a precondition.
    case invalidInput(String)
    /// Numerical failure (non-finite values, failed factorisation) that the caller can report.
    case numerical(String)

    public var description: String {
        switch self {
        case let .badFile(path, reason): return "\(path): \(reason)"
        case let .badTensor(path, tensor, reason): return "\(path): tensor '\(tensor)': \(reason)"
        case let .unsupported(message): return "unsupported: \(message)"
        case let .invalidInput(message): return message
        case let .numerical(message): return "numerical error: \(message)"
        }
    }
}
