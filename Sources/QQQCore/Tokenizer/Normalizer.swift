import Foundation

/// The `normalizer` stage, applied to each piece of input text between added tokens.
/// Works on unicode scalar values; only the normalizers real LLM tokenizers use are supported.
indirect enum Normalizer {
    case sequence([Normalizer])
    /// Prepends the string to non-empty input (SentencePiece's "▁" marker).
    case prepend([UInt32])
    /// Replaces every occurrence of a literal string.
    case replace(pattern: [UInt32], content: [UInt32])
    case nfc, nfkc, nfd, nfkd
    case lowercase
    case strip(left: Bool, right: Bool)

    static func parse(_ json: [String: Any], file: String) throws -> Normalizer {
        let type = json["type"] as? String ?? "?"
        switch type {
        case "Sequence":
            return .sequence(try TokenizerJSON.sequence(json, key: "normalizers", component: "normalizer", file: file) {
                try parse($0, file: file)
            })
        case "Prepend":
            guard let p = json["prepend"] as? String else {
                throw QQQError.badFile(path: file, reason: "Prepend normalizer without 'prepend'")
            }
            return .prepend(TokenizerJSON.scalars(p))
        case "Replace":
            guard let content = json["content"] as? String else {
                throw QQQError.badFile(path: file, reason: "Replace normalizer without 'content'")
            }
            switch TokenizerJSON.pattern(json["pattern"]) {
            case .string(let s)?:
                return .replace(pattern: TokenizerJSON.scalars(s), content: TokenizerJSON.scalars(content))
            case .regex(let r)?:
                throw QQQError.unsupported("\(file): Replace normalizer with regex pattern \(r)")
            case nil:
                throw QQQError.badFile(path: file, reason: "Replace normalizer without a pattern")
            }
        case "NFC": return .nfc
        case "NFKC": return .nfkc
        case "NFD": return .nfd
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Strip":
            return .strip(left: TokenizerJSON.bool(json["strip_left"], default: true),
                          right: TokenizerJSON.bool(json["strip_right"], default: true))
        default:
            throw QQQError.unsupported("\(file): normalizer type \(type)")
        }
    }

    func apply(_ s: [UInt32]) -> [UInt32] {
        switch self {
        case .sequence(let list):
            var cur = s
            for n in list { cur = n.apply(cur) }
            return cur
        case .prepend(let p):
            return s.isEmpty ? s : p + s
        case .replace(let pattern, let content):
            return Normalizer.replaceAll(s, pattern, content)
        case .nfc:
            // Scalars below U+0300 are all NFC-stable: skip Foundation for plain text.
            if s.allSatisfy({ $0 < 0x300 }) { return s }
            return TokenizerJSON.scalars(String(scalarValues: s).precomposedStringWithCanonicalMapping)
        case .nfkc:
            if s.allSatisfy({ $0 < 0x80 }) { return s }
            return TokenizerJSON.scalars(String(scalarValues: s).precomposedStringWithCompatibilityMapping)
        case .nfd:
            if s.allSatisfy({ $0 < 0xC0 }) { return s }
            return TokenizerJSON.scalars(String(scalarValues: s).decomposedStringWithCanonicalMapping)
        case .nfkd:
            if s.allSatisfy({ $0 < 0x80 }) { return s }
            return TokenizerJSON.scalars(String(scalarValues: s).decomposedStringWithCompatibilityMapping)
        case .lowercase:
            var out: [UInt32] = []
            out.reserveCapacity(s.count)
            for v in s {
                if v < 0x80 {
                    out.append(v >= 0x41 && v <= 0x5A ? v + 32 : v)
                } else if let u = Unicode.Scalar(v) {
                    out.append(contentsOf: u.properties.lowercaseMapping.unicodeScalars.map { $0.value })
                } else {
                    out.append(v)
                }
            }
            return out
        case .strip(let left, let right):
            var lo = 0, hi = s.count
            if left { while lo < hi && ScalarClass.isWhitespace(s[lo]) { lo += 1 } }
            if right { while hi > lo && ScalarClass.isWhitespace(s[hi - 1]) { hi -= 1 } }
            return Array(s[lo..<hi])
        }
    }

    /// Non-overlapping left-to-right replacement of a literal.
    static func replaceAll(_ s: [UInt32], _ pattern: [UInt32], _ content: [UInt32]) -> [UInt32] {
        guard !pattern.isEmpty, s.count >= pattern.count else { return s }
        var out: [UInt32] = []
        out.reserveCapacity(s.count + s.count / 4)
        let first = pattern[0]
        let n = pattern.count
        var i = 0
        while i < s.count {
            if s[i] == first && i + n <= s.count {
                var same = true
                var k = 1
                while k < n { if s[i + k] != pattern[k] { same = false; break }; k += 1 }
                if same {
                    out.append(contentsOf: content)
                    i += n
                    continue
                }
            }
            out.append(s[i])
            i += 1
        }
        return out
    }
}
