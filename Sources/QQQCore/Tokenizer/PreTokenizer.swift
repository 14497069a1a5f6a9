/// The `pre_tokenizer` stages: each splits every current piece into smaller pieces (HF's
/// PreTokenizedString), so a Sequence applies its steps one after the other.
enum PreTokenizer {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case digits(individual: Bool)
    case split(SplitPattern)
    case metaspace(replacement: String, prepend: PrependScheme, split: Bool)
    case sequence([PreTokenizer])

    enum PrependScheme { case always, first, never }

    init(json: [String: Any], path: String) throws {
        let type = json["type"] as? String ?? "?"
        switch type {
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: json["add_prefix_space"] as? Bool ?? false,
                              useRegex: json["use_regex"] as? Bool ?? true)
        case "Digits":
            self = .digits(individual: json["individual_digits"] as? Bool ?? false)
        case "Split":
            let regex = (json["pattern"] as? [String: Any])?["Regex"] as? String ?? ""
            let behavior = json["behavior"] as? String ?? ""
            guard let pattern = SplitPattern(regex: regex), behavior == "Isolated", (json["invert"] as? Bool ?? false) == false else {
                throw QQQError.unsupported("Split pre-tokenizer (behavior \(behavior)) with pattern \(regex.debugDescription) in \(path)")
            }
            self = .split(pattern)
        case "Metaspace":
            let scheme: PrependScheme
            switch json["prepend_scheme"] as? String ?? ((json["add_prefix_space"] as? Bool ?? true) ? "always" : "never") {
            case "first": scheme = .first
            case "never": scheme = .never
            default: scheme = .always
            }
            self = .metaspace(replacement: json["replacement"] as? String ?? "\u{2581}", prepend: scheme,
                              split: json["split"] as? Bool ?? true)
        case "Sequence":
            let items = json["pretokenizers"] as? [[String: Any]] ?? []
            self = .sequence(try items.map { try PreTokenizer(json: $0, path: path) })
        default:
            throw QQQError.unsupported("pre-tokenizer '\(type)' in \(path)")
        }
    }

    /// True when the model sees byte-level symbols (a ByteLevel step is present).
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case let .sequence(items): return items.contains { $0.isByteLevel }
        default: return false
        }
    }

    func apply(_ pieces: [String], firstSegment: Bool) -> [String] {
        switch self {
        case let .sequence(items):
            return items.reduce(pieces) { $1.apply($0, firstSegment: firstSegment) }
        default:
            var out: [String] = []
            out.reserveCapacity(pieces.count)
            for (i, piece) in pieces.enumerated() { split(piece, into: &out, isFirst: firstSegment && i == 0) }
            return out
        }
    }

    private func split(_ piece: String, into out: inout [String], isFirst: Bool) {
        switch self {
        case let .byteLevel(addPrefixSpace, useRegex):
            let text = addPrefixSpace && !ScalarText.hasPrefix(piece, " ") ? " " + piece : piece
            if useRegex { Self.appendMatches(text, .gpt2, into: &out) } else { out.append(text) }
        case let .split(pattern):
            Self.appendMatches(piece, pattern, into: &out)
        case let .digits(individual):
            var current = String.UnicodeScalarView()
            var inDigits = false
            for s in piece.unicodeScalars {
                let digit = UnicodeClasses.isNumber(s)
                if digit && (individual || !inDigits), !current.isEmpty {
                    out.append(String(current)); current = .init()
                } else if !digit && inDigits, !current.isEmpty {
                    out.append(String(current)); current = .init()
                }
                current.append(s)
                inDigits = digit
            }
            if !current.isEmpty { out.append(String(current)) }
        case let .metaspace(replacement, prepend, splitWords):
            var text = ScalarText.replace(piece, " ", replacement)
            let shouldPrepend = prepend == .always || (prepend == .first && isFirst)
            if shouldPrepend && !ScalarText.hasPrefix(text, replacement) && !text.isEmpty { text = replacement + text }
            if !splitWords { out.append(text); return }
            let mark = Array(replacement.unicodeScalars)
            var current = String.UnicodeScalarView()
            for sc in text.unicodeScalars {
                if mark.count == 1 && sc == mark[0] && !current.isEmpty { out.append(String(current)); current = .init() }
                current.append(sc)
            }
            if !current.isEmpty { out.append(String(current)) }
        case .sequence:
            out.append(contentsOf: apply([piece], firstSegment: isFirst))
        }
    }

    private static func appendMatches(_ text: String, _ pattern: SplitPattern, into out: inout [String]) {
        let scalars = Array(text.unicodeScalars)
        for r in pattern.matches(scalars) {
            var v = String.UnicodeScalarView()
            v.append(contentsOf: scalars[r])
            out.append(String(v))
        }
    }
}
