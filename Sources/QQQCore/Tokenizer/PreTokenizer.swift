/// Pieces of text during pre-tokenization: ranges over one scalar buffer, so splitting never
/// copies; only the stages that change text (Metaspace, ByteLevel's prefix space) rebuild it.
struct Pieces {
    var buf: [UInt32]
    var ranges: [Range<Int>]
    /// Whether the first piece starts at offset 0 of the original input (Metaspace "first").
    var atInputStart: Bool
}

/// How a Split keeps the matched delimiters (the `behavior` field).
enum SplitBehavior: String {
    case isolated = "Isolated", removed = "Removed"
    case mergedWithPrevious = "MergedWithPrevious", mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// The `pre_tokenizer` stage: splits normalized text into words for the model.
indirect enum PreTokenizer {
    case sequence([PreTokenizer])
    /// GPT-2 byte level: optional prefix space, optional GPT-2 split. The byte -> unicode mapping
    /// itself is done by the BPE model's input (see `BPEModel.byteLevel`).
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case digits(individual: Bool)
    case split(SplitPattern, SplitBehavior)
    case splitString([UInt32], SplitBehavior)
    case metaspace(replacement: UInt32, prepend: MetaspacePrepend, split: Bool)
    case whitespaceSplit

    enum MetaspacePrepend: String { case always, first, never }

    /// Whether any stage is ByteLevel (the model then sees bytes mapped to the GPT-2 alphabet).
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let list): return list.contains { $0.isByteLevel }
        default: return false
        }
    }

    static func parse(_ json: [String: Any], file: String) throws -> PreTokenizer {
        let type = json["type"] as? String ?? "?"
        switch type {
        case "Sequence":
            return .sequence(try TokenizerJSON.sequence(json, key: "pretokenizers", component: "pre_tokenizer", file: file) {
                try parse($0, file: file)
            })
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: TokenizerJSON.bool(json["add_prefix_space"], default: true),
                              useRegex: TokenizerJSON.bool(json["use_regex"], default: true))
        case "Digits":
            return .digits(individual: TokenizerJSON.bool(json["individual_digits"], default: false))
        case "Split":
            let behaviorName = json["behavior"] as? String ?? "?"
            guard let behavior = SplitBehavior(rawValue: behaviorName), behavior != .contiguous else {
                throw QQQError.unsupported("\(file): Split pre-tokenizer behavior \(behaviorName)")
            }
            if TokenizerJSON.bool(json["invert"], default: false) {
                throw QQQError.unsupported("\(file): inverted Split pre-tokenizer")
            }
            switch TokenizerJSON.pattern(json["pattern"]) {
            case .regex(let r)?:
                guard let p = SplitPattern(pattern: r) else {
                    throw QQQError.unsupported("\(file): Split pre-tokenizer regex \(r)")
                }
                if behavior != .isolated {
                    throw QQQError.unsupported("\(file): Split pre-tokenizer regex with behavior \(behaviorName)")
                }
                return .split(p, behavior)
            case .string(let s)?:
                if s.isEmpty { throw QQQError.badFile(path: file, reason: "Split pre-tokenizer with empty pattern") }
                return .splitString(TokenizerJSON.scalars(s), behavior)
            case nil:
                throw QQQError.badFile(path: file, reason: "Split pre-tokenizer without a pattern")
            }
        case "Metaspace":
            let rep = (json["replacement"] as? String)?.unicodeScalars.first?.value ?? 0x2581
            var prepend = MetaspacePrepend.always
            if let scheme = json["prepend_scheme"] as? String {
                guard let p = MetaspacePrepend(rawValue: scheme) else {
                    throw QQQError.unsupported("\(file): Metaspace prepend_scheme \(scheme)")
                }
                prepend = p
            } else if json["add_prefix_space"] != nil {
                prepend = TokenizerJSON.bool(json["add_prefix_space"], default: true) ? .always : .never
            }
            return .metaspace(replacement: rep, prepend: prepend, split: TokenizerJSON.bool(json["split"], default: true))
        case "WhitespaceSplit":
            return .whitespaceSplit
        default:
            throw QQQError.unsupported("\(file): pre_tokenizer type \(type)")
        }
    }

    func apply(_ p: Pieces) -> Pieces {
        switch self {
        case .sequence(let list):
            var cur = p
            for t in list { cur = t.apply(cur) }
            return cur
        case .byteLevel(let addPrefixSpace, let useRegex):
            var cur = p
            if addPrefixSpace {
                cur = PreTokenizer.rebuild(cur) { piece, out, _ in
                    if piece.first != 0x20 { out.append(0x20) }
                    out.append(contentsOf: piece)
                }
            }
            if useRegex {
                cur = PreTokenizer.split(cur, .isolated) { s, lo, hi, out in SplitPattern.gpt2.matches(s, lo, hi, into: &out) }
            }
            return cur
        case .digits(let individual):
            return PreTokenizer.split(p, .isolated) { s, lo, hi, out in
                var i = lo
                while i < hi {
                    if ScalarClass.isNumeric(s[i]) {
                        var j = i + 1
                        if !individual { while j < hi && ScalarClass.isNumeric(s[j]) { j += 1 } }
                        out.append(i..<j)
                        i = j
                    } else {
                        i += 1
                    }
                }
            }
        case .split(let pattern, let behavior):
            return PreTokenizer.split(p, behavior) { s, lo, hi, out in pattern.matches(s, lo, hi, into: &out) }
        case .splitString(let pattern, let behavior):
            return PreTokenizer.split(p, behavior) { s, lo, hi, out in
                PreTokenizer.literalMatches(s, lo, hi, pattern, into: &out)
            }
        case .metaspace(let rep, let prepend, let split):
            var cur = PreTokenizer.rebuild(p) { piece, out, atStart in
                let startsWithRep = piece.first == 0x20 || piece.first == rep
                switch prepend {
                case .always: if !startsWithRep { out.append(rep) }
                case .first: if !startsWithRep && atStart { out.append(rep) }
                case .never: break
                }
                for v in piece { out.append(v == 0x20 ? rep : v) }
            }
            if split {
                cur = PreTokenizer.split(cur, .mergedWithNext) { s, lo, hi, out in
                    PreTokenizer.literalMatches(s, lo, hi, [rep], into: &out)
                }
            }
            return cur
        case .whitespaceSplit:
            return PreTokenizer.split(p, .removed) { s, lo, hi, out in
                var i = lo
                while i < hi {
                    if ScalarClass.isWhitespace(s[i]) {
                        var j = i + 1
                        while j < hi && ScalarClass.isWhitespace(s[j]) { j += 1 }
                        out.append(i..<j)
                        i = j
                    } else {
                        i += 1
                    }
                }
            }
        }
    }

    /// Copies every piece through `transform` into a new buffer. `transform` gets the piece,
    /// the output and whether the piece starts the original input.
    static func rebuild(_ p: Pieces,
                        _ transform: (ArraySlice<UInt32>, inout [UInt32], Bool) -> Void) -> Pieces {
        var buf: [UInt32] = []
        buf.reserveCapacity(p.buf.count + p.buf.count / 4 + p.ranges.count)
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(p.ranges.count)
        for (n, r) in p.ranges.enumerated() {
            let start = buf.count
            transform(p.buf[r], &buf, n == 0 && p.atInputStart)
            if buf.count > start { ranges.append(start..<buf.count) }
        }
        return Pieces(buf: buf, ranges: ranges, atInputStart: p.atInputStart)
    }

    /// Splits every piece at the matches `find` reports (ascending, non-overlapping), keeping
    /// delimiters as `behavior` says. Empty pieces are dropped, as in `tokenizers`.
    static func split(_ p: Pieces, _ behavior: SplitBehavior,
                      _ find: (UnsafeBufferPointer<UInt32>, Int, Int, inout [Range<Int>]) -> Void) -> Pieces {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(p.ranges.count * 2)
        var matches: [Range<Int>] = []
        p.buf.withUnsafeBufferPointer { s in
            for r in p.ranges {
                matches.removeAll(keepingCapacity: true)
                find(s, r.lowerBound, r.upperBound, &matches)
                var pos = r.lowerBound
                // Start of a pending piece for MergedWithNext.
                var pendingStart = -1
                func emit(_ a: Int, _ b: Int) { if b > a { ranges.append(a..<b) } }
                for m in matches {
                    switch behavior {
                    case .isolated, .contiguous:
                        emit(pos, m.lowerBound); emit(m.lowerBound, m.upperBound)
                    case .removed:
                        emit(pos, m.lowerBound)
                    case .mergedWithPrevious:
                        emit(pos, m.upperBound)
                    case .mergedWithNext:
                        emit(pendingStart >= 0 ? pendingStart : pos, m.lowerBound)
                        pendingStart = m.lowerBound
                    }
                    pos = m.upperBound
                }
                if behavior == .mergedWithNext && pendingStart >= 0 {
                    emit(pendingStart, r.upperBound)
                } else {
                    emit(pos, r.upperBound)
                }
            }
        }
        return Pieces(buf: p.buf, ranges: ranges, atInputStart: p.atInputStart)
    }

    static func literalMatches(_ s: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int, _ pattern: [UInt32],
                               into out: inout [Range<Int>]) {
        let n = pattern.count
        var i = lo
        while i + n <= hi {
            var k = 0
            while k < n && s[i + k] == pattern[k] { k += 1 }
            if k == n { out.append(i..<(i + n)); i += n } else { i += 1 }
        }
    }
}
