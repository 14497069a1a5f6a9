/// Hand-coded matchers for the pre-tokenization regexes that real byte-level BPE tokenizers use,
/// recognised by their exact pattern text. Each reproduces the regex's leftmost-first
/// alternation and backtracking, so the pieces equal what Oniguruma finds, without a regex engine.
enum SplitPattern: Equatable {
    /// GPT-2 (also ByteLevel's own `use_regex`).
    case gpt2
    /// LLaMA-3 / cl100k: letters may take one leading non-letter, digits in runs of at most 3.
    case llama3
    /// Qwen2: as LLaMA-3 but digits one by one.
    case qwen2

    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    init?(pattern: String) {
        switch pattern {
        case SplitPattern.gpt2Pattern: self = .gpt2
        case SplitPattern.llama3Pattern: self = .llama3
        case SplitPattern.qwen2Pattern: self = .qwen2
        default: return nil
        }
    }

    /// Appends the match ranges (absolute indices) found in `s[lo..<hi]`. The matches cover the
    /// range completely, as these patterns match every scalar.
    func matches(_ s: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int, into out: inout [Range<Int>]) {
        var i = lo
        while i < hi {
            let end: Int
            switch self {
            case .gpt2: end = SplitPattern.gpt2Match(s, i, hi)
            case .llama3: end = SplitPattern.llamaMatch(s, i, hi, maxDigits: 3)
            case .qwen2: end = SplitPattern.llamaMatch(s, i, hi, maxDigits: 1)
            }
            out.append(i..<end)
            i = end
        }
    }

    @inline(__always)
    private static func cls(_ s: UnsafeBufferPointer<UInt32>, _ i: Int) -> ScalarClass { ScalarClass.of(s[i]) }

    /// Length of the contraction ('s 't 're 've 'm 'll 'd) at `i`, or 0.
    @inline(__always)
    private static func contraction(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ hi: Int, caseless: Bool) -> Int {
        guard s[i] == 0x27, i + 1 < hi else { return 0 }
        // Case folding as the regex engines do it: ASCII, plus U+017F (long s) which folds to "s".
        func lower(_ v: UInt32) -> UInt32 {
            guard caseless else { return v }
            if v >= 0x41 && v <= 0x5A { return v + 32 }
            return v == 0x17F ? 0x73 : v
        }
        let a = lower(s[i + 1])
        switch a {
        case 0x73, 0x74, 0x6D, 0x64: return 2 // s t m d
        case 0x72, 0x76: // re ve
            if i + 2 < hi && lower(s[i + 2]) == 0x65 { return 3 }
        case 0x6C: // ll
            if i + 2 < hi && lower(s[i + 2]) == 0x6C { return 3 }
        default: break
        }
        return 0
    }

    @inline(__always)
    private static func run(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ hi: Int, _ c: ScalarClass) -> Int {
        var j = i
        while j < hi && cls(s, j) == c { j += 1 }
        return j
    }

    /// End of the whitespace alternatives `\s+(?!\S)|\s+` at a whitespace scalar `i`.
    @inline(__always)
    private static func spaceRun(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ hi: Int) -> Int {
        let j = run(s, i, hi, .space)
        // \s+(?!\S): the whole run at the end of text, else back off one so the last space
        // joins the next word; a single space before a non-space falls to \s+.
        if j == hi || j - i == 1 { return j }
        return j - 1
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    private static func gpt2Match(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ hi: Int) -> Int {
        let c = contraction(s, i, hi, caseless: false)
        if c > 0 { return i + c }
        var start = i
        var k = cls(s, i)
        if s[i] == 0x20 && i + 1 < hi {
            let n = cls(s, i + 1)
            if n != .space { start = i + 1; k = n }
        }
        if k == .space { return spaceRun(s, i, hi) }
        return run(s, start, hi, k)
    }

    @inline(__always)
    private static func isCRLF(_ v: UInt32) -> Bool { v == 0x0A || v == 0x0D }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}|
    ///  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    private static func llamaMatch(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ hi: Int, maxDigits: Int) -> Int {
        let c = contraction(s, i, hi, caseless: true)
        if c > 0 { return i + c }
        let k = cls(s, i)
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if k == .letter { return run(s, i, hi, .letter) }
        if k != .number && !isCRLF(s[i]) && i + 1 < hi && cls(s, i + 1) == .letter {
            return run(s, i + 1, hi, .letter)
        }
        // \p{N}{1,n}
        if k == .number {
            var j = i + 1
            while j < hi && j - i < maxDigits && cls(s, j) == .number { j += 1 }
            return j
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        var start = -1
        if k == .other { start = i } else if s[i] == 0x20 && i + 1 < hi && cls(s, i + 1) == .other { start = i + 1 }
        if start >= 0 {
            var j = run(s, start, hi, .other)
            while j < hi && isCRLF(s[j]) { j += 1 }
            return j
        }
        // Here s[i] is whitespace. \s*[\r\n]+ : up to just past the last CR/LF of the run.
        let j = run(s, i, hi, .space)
        var last = j - 1
        while last >= i && !isCRLF(s[last]) { last -= 1 }
        if last >= i { return last + 1 }
        return spaceRun(s, i, hi)
    }
}
