/// The `post_processor`: which special tokens surround an encoded sequence.
enum PostProcessor {
    /// Adds nothing (ByteLevel, or none).
    case none
    /// TemplateProcessing's `single` template: ids before and after the sequence.
    case template(prefix: [Int32], suffix: [Int32])

    init(json: [String: Any]?, path: String) throws {
        guard let json else { self = .none; return }
        let type = json["type"] as? String ?? "?"
        switch type {
        case "ByteLevel": self = .none
        case "TemplateProcessing":
            let specials = json["special_tokens"] as? [String: [String: Any]] ?? [:]
            var prefix: [Int32] = [], suffix: [Int32] = []
            var seenSequence = false
            for item in json["single"] as? [[String: Any]] ?? [] {
                if item["Sequence"] != nil { seenSequence = true; continue }
                guard let token = item["SpecialToken"] as? [String: Any], let name = token["id"] as? String,
                      let ids = specials[name]?["ids"] as? [Int] else {
                    throw QQQError.badFile(path: path, reason: "TemplateProcessing names an unknown special token")
                }
                if seenSequence { suffix += ids.map(Int32.init) } else { prefix += ids.map(Int32.init) }
            }
            self = .template(prefix: prefix, suffix: suffix)
        case "Sequence":
            var result = PostProcessor.none
            for item in json["processors"] as? [[String: Any]] ?? [] {
                let p = try PostProcessor(json: item, path: path)
                if case .template = p { result = p }
            }
            self = result
        default:
            throw QQQError.unsupported("post-processor '\(type)' in \(path)")
        }
    }

    func apply(_ ids: [Int32]) -> [Int32] {
        switch self {
        case .none: return ids
        case let .template(prefix, suffix): return prefix + ids + suffix
        }
    }
}
