/// Added/special tokens (`added_tokens` of tokenizer.json), matched whole in the raw input before
/// normalization, leftmost-longest, as HF's AddedVocabulary does for non-normalized tokens.
struct AddedTokens {
    struct Entry {
        let content: [UInt8]
        let id: Int32
        let special: Bool
        let lstrip: Bool
        let rstrip: Bool
    }

    enum Segment {
        case text(Substring)
        case token(Int32)
    }

    private(set) var entries: [Entry] = []
    /// Entries by first byte, longest first.
    private var byFirstByte: [[Int]] = Array(repeating: [], count: 256)

    init(json: [[String: Any]]) {
        for item in json {
            guard let content = item["content"] as? String, !content.isEmpty, let id = (item["id"] as? Int) else { continue }
            entries.append(Entry(content: Array(content.utf8), id: Int32(id), special: item["special"] as? Bool ?? false,
                                 lstrip: item["lstrip"] as? Bool ?? false, rstrip: item["rstrip"] as? Bool ?? false))
        }
        for (i, e) in entries.enumerated() { byFirstByte[Int(e.content[0])].append(i) }
        for b in 0..<256 { byFirstByte[b].sort { entries[$0].content.count > entries[$1].content.count } }
    }

    func id(of content: String) -> Int32? { entries.first { $0.content == Array(content.utf8) }?.id }

    /// Splits text into plain segments and added tokens.
    func split(_ text: String) -> [Segment] {
        if entries.isEmpty { return [.text(Substring(text))] }
        let utf8 = Array(text.utf8)
        var out: [Segment] = []
        var segmentStart = 0
        var i = 0
        func textSlice(_ a: Int, _ b: Int) -> Substring {
            let s = text.utf8.index(text.utf8.startIndex, offsetBy: a)
            let e = text.utf8.index(text.utf8.startIndex, offsetBy: b)
            return text[s..<e]
        }
        while i < utf8.count {
            var matched: Entry?
            for k in byFirstByte[Int(utf8[i])] {
                let c = entries[k].content
                if i + c.count <= utf8.count && utf8[i..<(i + c.count)].elementsEqual(c) { matched = entries[k]; break }
            }
            guard let m = matched else { i += 1; continue }
            var end = i
            if m.lstrip { while end > segmentStart && Self.isSpace(utf8[end - 1]) { end -= 1 } }
            if end > segmentStart { out.append(.text(textSlice(segmentStart, end))) }
            out.append(.token(m.id))
            i += m.content.count
            if m.rstrip { while i < utf8.count && Self.isSpace(utf8[i]) { i += 1 } }
            segmentStart = i
        }
        if segmentStart < utf8.count { out.append(.text(textSlice(segmentStart, utf8.count))) }
        return out
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 32 || (b >= 9 && b <= 13) }
}
