/// The `post_processor` stage: special tokens around a single sequence (pairs are not needed).
indirect enum PostProcessor {
    case none
    case sequence([PostProcessor])
    /// TemplateProcessing's `single` template: ids before and after the sequence.
    case template(prefix: [Int32], suffix: [Int32])

    static func parse(_ json: [String: Any]?, file: String) throws -> PostProcessor {
        guard let json = json else { return .none }
        let type = json["type"] as? String ?? "?"
        switch type {
        case "ByteLevel":
            return .none // only trims offsets
        case "Sequence":
            guard let list = json["processors"] as? [Any] else {
                throw QQQError.badFile(path: file, reason: "post_processor Sequence without 'processors'")
            }
            return .sequence(try list.map { try parse(TokenizerJSON.object($0), file: file) })
        case "TemplateProcessing":
            return try parseTemplate(json, file: file)
        case "RobertaProcessing", "BertProcessing":
            func id(_ key: String) throws -> Int32 {
                guard let pair = json[key] as? [Any], pair.count == 2, let n = TokenizerJSON.int(pair[1]) else {
                    throw QQQError.badFile(path: file, reason: "\(type) without a valid '\(key)'")
                }
                return Int32(n)
            }
            return .template(prefix: [try id("cls")], suffix: [try id("sep")])
        default:
            throw QQQError.unsupported("\(file): post_processor type \(type)")
        }
    }

    private static func parseTemplate(_ json: [String: Any], file: String) throws -> PostProcessor {
        guard let single = json["single"] as? [Any] else {
            throw QQQError.badFile(path: file, reason: "TemplateProcessing without 'single'")
        }
        let specials = TokenizerJSON.object(json["special_tokens"]) ?? [:]
        var prefix: [Int32] = [], suffix: [Int32] = []
        var seenSequence = false
        for item in single {
            guard let o = TokenizerJSON.object(item) else {
                throw QQQError.badFile(path: file, reason: "TemplateProcessing item is not an object")
            }
            if o["Sequence"] != nil {
                seenSequence = true
            } else if let sp = TokenizerJSON.object(o["SpecialToken"]), let name = sp["id"] as? String {
                guard let entry = TokenizerJSON.object(specials[name]), let ids = entry["ids"] as? [Any] else {
                    throw QQQError.badFile(path: file, reason: "TemplateProcessing special token '\(name)' is not defined")
                }
                let list = try ids.map { v -> Int32 in
                    guard let n = TokenizerJSON.int(v) else {
                        throw QQQError.badFile(path: file, reason: "TemplateProcessing special token '\(name)' has a bad id")
                    }
                    return Int32(n)
                }
                if seenSequence { suffix += list } else { prefix += list }
            } else {
                throw QQQError.badFile(path: file, reason: "TemplateProcessing item is neither Sequence nor SpecialToken")
            }
        }
        return .template(prefix: prefix, suffix: suffix)
    }

    func apply(_ ids: [Int32]) -> [Int32] {
        switch self {
        case .none: return ids
        case .sequence(let list):
            var cur = ids
            for p in list { cur = p.apply(cur) }
            return cur
        case .template(let prefix, let suffix):
            if prefix.isEmpty && suffix.isEmpty { return ids }
            return prefix + ids + suffix
        }
    }

    /// The first id the processor puts before the text (the BOS it adds), if any.
    var firstPrefixId: Int32? {
        switch self {
        case .none: return nil
        case .template(let prefix, _): return prefix.first
        case .sequence(let list):
            for p in list { if let id = p.firstPrefixId { return id } }
            return nil
        }
    }
}
