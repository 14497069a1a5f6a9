import Foundation

/// The `decoder` stage: turns token strings back into text. Works on the list of token strings,
/// as `tokenizers` does, so per-token steps (Strip, Metaspace) see the same boundaries.
indirect enum TokenDecoder {
    case sequence([TokenDecoder])
    case byteLevel
    case replace(pattern: String, content: String)
    case byteFallback
    case fuse
    case strip(content: Character, start: Int, stop: Int)
    case metaspace(replacement: Character, stripFirst: Bool)

    static func parse(_ json: [String: Any], file: String) throws -> TokenDecoder {
        let type = json["type"] as? String ?? "?"
        switch type {
        case "Sequence":
            return .sequence(try TokenizerJSON.sequence(json, key: "decoders", component: "decoder", file: file) {
                try parse($0, file: file)
            })
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Replace":
            guard case .string(let p)? = TokenizerJSON.pattern(json["pattern"]), let c = json["content"] as? String else {
                throw QQQError.unsupported("\(file): Replace decoder without a literal pattern")
            }
            return .replace(pattern: p, content: c)
        case "Strip":
            let c = (json["content"] as? String)?.first ?? " "
            return .strip(content: c, start: TokenizerJSON.int(json["start"]) ?? 0, stop: TokenizerJSON.int(json["stop"]) ?? 0)
        case "Metaspace":
            let rep = (json["replacement"] as? String)?.first ?? "\u{2581}"
            var stripFirst = true
            if let scheme = json["prepend_scheme"] as? String { stripFirst = scheme != "never" }
            else if json["add_prefix_space"] != nil { stripFirst = TokenizerJSON.bool(json["add_prefix_space"], default: true) }
            return .metaspace(replacement: rep, stripFirst: stripFirst)
        default:
            throw QQQError.unsupported("\(file): decoder type \(type)")
        }
    }

    func apply(_ tokens: [String]) -> [String] {
        switch self {
        case .sequence(let list):
            var cur = tokens
            for d in list { cur = d.apply(cur) }
            return cur
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens {
                var mapped: [UInt8] = []
                var ok = true
                for u in t.unicodeScalars {
                    guard let b = ByteLevelAlphabet.scalarToByte[u.value] else { ok = false; break }
                    mapped.append(b)
                }
                bytes += ok ? mapped : Array(t.utf8)
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .replace(let pattern, let content):
            return tokens.map { $0.replacingOccurrences(of: pattern, with: content) }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                if pending.isEmpty { return }
                if let s = String(validatingUTF8Bytes: pending) { out.append(s) }
                else { out += Array(repeating: "\u{FFFD}", count: pending.count) }
                pending.removeAll()
            }
            for t in tokens {
                let u = Array(t.utf8)
                if u.count == 6, t.hasPrefix("<0x"), t.hasSuffix(">"),
                   let b = UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16) {
                    pending.append(b)
                } else {
                    flush()
                    out.append(t)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { t in
                var chars = Array(t)
                var lo = 0
                while lo < start && lo < chars.count && chars[lo] == content { lo += 1 }
                var hi = chars.count
                var cut = 0
                while cut < stop && hi > lo && chars[hi - 1] == content { hi -= 1; cut += 1 }
                chars = Array(chars[lo..<hi])
                return String(chars)
            }
        case .metaspace(let rep, let stripFirst):
            return tokens.enumerated().map { i, t in
                var s = String(t.map { $0 == rep ? " " : $0 })
                if i == 0 && stripFirst && s.hasPrefix(" ") { s.removeFirst() }
                return s
            }
        }
    }
}

extension String {
    /// nil unless `bytes` is valid UTF-8.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var out = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let u): out.append(u)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = String(out)
    }
}
