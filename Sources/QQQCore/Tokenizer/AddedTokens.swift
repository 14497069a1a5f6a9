/// One entry of `added_tokens`: matched whole in the input before the model sees it.
struct AddedToken {
    let id: Int32
    let content: [UInt32]
    let special: Bool
    let lstrip: Bool
    let rstrip: Bool
    let singleWord: Bool
    let normalized: Bool
}

/// A piece of the input: either text for the pipeline or an added token already resolved.
enum Segment {
    case text(Range<Int>)
    case token(Int32)
}

/// Finds added tokens in scalar text, leftmost-longest like the Aho-Corasick matcher of
/// `tokenizers`, with their lstrip/rstrip/single_word rules.
struct AddedTokenMatcher {
    private let tokens: [AddedToken]
    /// Candidate tokens by first scalar, longest first.
    private var byFirst: [UInt32: [Int]] = [:]

    /// `patterns[i]` is what to look for for `tokens[i]` (the content, or its normalized form).
    init(tokens: [AddedToken], patterns: [[UInt32]]) {
        self.tokens = tokens
        self.patterns = patterns
        for (i, p) in patterns.enumerated() where !p.isEmpty {
            byFirst[p[0], default: []].append(i)
        }
        for key in byFirst.keys {
            byFirst[key]!.sort { patterns[$0].count > patterns[$1].count }
        }
    }
    private let patterns: [[UInt32]]

    var isEmpty: Bool { byFirst.isEmpty }

    /// Splits `s[range]` into text and token segments.
    func split(_ s: [UInt32], _ range: Range<Int>) -> [Segment] {
        if byFirst.isEmpty { return range.isEmpty ? [] : [.text(range)] }
        var out: [Segment] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        let hi = range.upperBound
        while i < hi {
            guard let cands = byFirst[s[i]] else { i += 1; continue }
            var found = -1
            var end = i
            for c in cands {
                let p = patterns[c]
                if i + p.count > hi { continue }
                var k = 1
                while k < p.count && s[i + k] == p[k] { k += 1 }
                if k < p.count { continue }
                let t = tokens[c]
                if t.singleWord {
                    let before = i == range.lowerBound || !AddedTokenMatcher.isWordScalar(s[i - 1])
                    let after = i + p.count == hi || !AddedTokenMatcher.isWordScalar(s[i + p.count])
                    if !(before && after) { continue }
                }
                found = c
                end = i + p.count
                break
            }
            if found < 0 { i += 1; continue }
            let t = tokens[found]
            var start = i
            if t.lstrip { while start > textStart && ScalarClass.isWhitespace(s[start - 1]) { start -= 1 } }
            if t.rstrip { while end < hi && ScalarClass.isWhitespace(s[end]) { end += 1 } }
            if start > textStart { out.append(.text(textStart..<start)) }
            out.append(.token(t.id))
            textStart = end
            i = end
        }
        if textStart < hi { out.append(.text(textStart..<hi)) }
        return out
    }

    private static func isWordScalar(_ v: UInt32) -> Bool {
        let c = ScalarClass.of(v)
        return c == .letter || c == .number || v == 0x5F
    }
}
