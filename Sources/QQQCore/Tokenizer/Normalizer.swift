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
        case let .replace(a, b): return ScalarText.replace(s, a, b)
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfkc: return s.precomposedStringWithCompatibilityMapping
        case .lowercase: return s.lowercased()
        case let .sequence(items): return items.reduce(s) { $1.apply($0) }
        }
    }
}

/// Replacement by exact unicode scalars (Foundation's search would match by grapheme and canonical
/// equivalence, so a space carrying a combining mark would not be found).
enum ScalarText {
    static func replace(_ s: String, _ a: String, _ b: String) -> String {
        let pattern = Array(a.unicodeScalars), replacement = Array(b.unicodeScalars)
        guard !pattern.isEmpty else { return s }
        let src = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < src.count {
            if src[i] == pattern[0], i + pattern.count <= src.count, Array(src[i..<(i + pattern.count)]) == pattern {
                out.append(contentsOf: replacement)
                i += pattern.count
            } else {
                out.append(src[i])
                i += 1
            }
        }
        return String(out)
    }

    static func hasPrefix(_ s: String, _ p: String) -> Bool { s.unicodeScalars.starts(with: p.unicodeScalars) }
}
