/// The pre-tokenizer regexes that real tokenizers use, matched by hand (no regex engine): each
/// function returns the match ranges of a left-to-right `find_iter` over unicode scalars.
enum SplitPattern: Equatable {
    /// GPT-2 / SmolLM2 (ByteLevel use_regex):
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// LLaMA-3 (maxDigits 3) and Qwen2 (maxDigits 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3(maxDigits: Int)

    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    init?(regex: String) {
        switch regex {
        case Self.gpt2Regex: self = .gpt2
        case Self.llama3Regex: self = .llama3(maxDigits: 3)
        case Self.qwen2Regex: self = .llama3(maxDigits: 1)
        default: return nil
        }
    }

    func matches(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        while i < s.count {
            let end: Int
            switch self {
            case .gpt2: end = Self.gpt2Match(s, i)
            case let .llama3(maxDigits): end = Self.llama3Match(s, i, maxDigits: maxDigits)
            }
            out.append(i..<end)
            i = end
        }
        return out
    }

    typealias C = UnicodeClasses

    /// `'s|'t|'re|'ve|'m|'ll|'d` at i (case-insensitive when asked); returns the end or nil.
    static func contraction(_ s: [Unicode.Scalar], _ i: Int, ignoreCase: Bool) -> Int? {
        guard s[i] == "'", i + 1 < s.count else { return nil }
        func lower(_ k: Int) -> UInt32? {
            guard k < s.count else { return nil }
            let v = s[k].value
            return ignoreCase && v >= 65 && v <= 90 ? v + 32 : v
        }
        switch lower(i + 1) {
        case 115, 116, 109, 100: return i + 2                       // s t m d
        case 114: return lower(i + 2) == 101 ? i + 3 : nil          // re
        case 118: return lower(i + 2) == 101 ? i + 3 : nil          // ve
        case 108: return lower(i + 2) == 108 ? i + 3 : nil          // ll
        default: return nil
        }
    }

    static func run(_ s: [Unicode.Scalar], from i: Int, while pred: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        while j < s.count && pred(s[j]) { j += 1 }
        return j
    }

    static func isOther(_ c: Unicode.Scalar) -> Bool { !C.isWhitespace(c) && !C.isLetter(c) && !C.isNumber(c) }

    /// `\s+(?!\S)|\s+` at a whitespace char i.
    static func whitespaceRun(_ s: [Unicode.Scalar], _ i: Int) -> Int {
        let j = run(s, from: i, while: C.isWhitespace)
        if j == s.count || j - i == 1 { return j }
        return j - 1  // leave the last space to prefix the next word
    }

    static func gpt2Match(_ s: [Unicode.Scalar], _ i: Int) -> Int {
        if let e = contraction(s, i, ignoreCase: false) { return e }
        let c = s[i]
        let spaced = c == " " && i + 1 < s.count
        let start = spaced ? i + 1 : i
        if C.isLetter(c) || (spaced && C.isLetter(s[i + 1])) { return run(s, from: start, while: C.isLetter) }
        if C.isNumber(c) || (spaced && C.isNumber(s[i + 1])) { return run(s, from: start, while: C.isNumber) }
        if isOther(c) || (spaced && isOther(s[i + 1])) { return run(s, from: start, while: isOther) }
        return whitespaceRun(s, i)
    }

    static func llama3Match(_ s: [Unicode.Scalar], _ i: Int, maxDigits: Int) -> Int {
        if let e = contraction(s, i, ignoreCase: true) { return e }
        let c = s[i]
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if C.isLetter(c) { return run(s, from: i, while: C.isLetter) }
        if !C.isNewline(c) && !C.isNumber(c) && i + 1 < s.count && C.isLetter(s[i + 1]) {
            return run(s, from: i + 1, while: C.isLetter)
        }
        // \p{N}{1,maxDigits}
        if C.isNumber(c) {
            var j = i
            while j < s.count && j - i < maxDigits && C.isNumber(s[j]) { j += 1 }
            return j
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        let spaced = c == " " && i + 1 < s.count && isOther(s[i + 1])
        if isOther(c) || spaced {
            let j = run(s, from: spaced ? i + 1 : i, while: isOther)
            return run(s, from: j, while: C.isNewline)
        }
        // \s*[\r\n]+ : up to the last newline of the whitespace run
        let j = run(s, from: i, while: C.isWhitespace)
        var lastNewline = -1
        for k in i..<j where C.isNewline(s[k]) { lastNewline = k }
        if lastNewline >= 0 { return lastNewline + 1 }
        return whitespaceRun(s, i)
    }
}
