import Foundation

/// The `normalizer` stages of tokenizer.json that LLaMA-family tokenizers use.
enum Normalizer {
    case prepend(String)
    case replace(String, String)
    case nfc
    case nfkc
    case lowercase
    case sequence([Normalizer])

    init(json: [String: Any], path: String) throws {
        let type = json["type"] as? String ?? "?"
        switch type {
        case "Prepend":
            self = .prepend(json["prepend"] as? String ?? "")
        case "Replace":
            guard let pattern = (json["pattern"] as? [String: Any])?["String"] as? String else {
                throw QQQError.unsupported("normalizer Replace with a regex pattern in \(path)")
            }
            self = .replace(pattern, json["content"] as? String ?? "")
        case "NFC": self = .nfc
        case "NFKC": self = .nfkc
        case "Lowercase": self = .lowercase
        case "Sequence":
            let items = json["normalizers"] as? [[String: Any]] ?? []
            self = .sequence(try items.map { try Normalizer(json: $0, path: path) })
        default:
            throw QQQError.unsupported("normalizer '\(type)' in \(path)")
        }
    }

    func apply(_ s: String) -> String {
        switch self {
        case let .prepend(p): return s.isEmpty ? s : p + s
        case let .replace(a, b): return s.replacingOccurrences(of: a, with: b)
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfkc: return s.precomposedStringWithCompatibilityMapping
        case .lowercase: return s.lowercased()
        case let .sequence(items): return items.reduce(s) { $1.apply($0) }
        }
    }
}
