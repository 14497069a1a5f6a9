import Foundation

/// The BPE model of `tokenizer.json`: initial symbols per character (GPT-2 byte alphabet for
/// byte-level tokenizers; `<0xNN>` byte fallback and unk fusing for SentencePiece ones), then
/// merges by rank, lowest first and leftmost among equals, exactly as `tokenizers` applies them.
/// Not thread-safe (scratch buffers and the word cache); `Tokenizer` serialises calls.
final class BPEModel {
    /// UTF-8 bytes of a token -> id. Byte keys, because String equality is canonical equivalence.
    let vocab: [[UInt8]: Int32]
    /// id -> token text (nil for holes in the id range).
    let idToToken: [String?]
    let unkId: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// Input scalars are first mapped byte by byte to the GPT-2 alphabet.
    let byteLevel: Bool

    /// (left id << 32 | right id) -> (rank << 32 | merged id).
    private let merges: [UInt64: UInt64]
    /// Single-scalar tokens: ASCII in a table, the rest in a dictionary.
    private var asciiIds = [Int32](repeating: -1, count: 128)
    private var scalarIds: [UInt32: Int32] = [:]
    /// `<0xNN>` ids, -1 when absent.
    private var byteFallbackIds = [Int32](repeating: -1, count: 256)
    /// For byte-level input: the id of the alphabet character of each byte, -1 when absent.
    private var byteLevelIds = [Int32](repeating: -1, count: 256)

    /// Adjacent scalar pairs occurring inside some token, and which ids any merge uses: together
    /// they show where no merge can ever cross, so long words (SentencePiece feeds whole texts
    /// as one word) are cut there and merged piecewise with the same result.
    private var bigrams = Set<UInt64>()
    private var mergeable: [Bool] = []
    private static let chunkThreshold = 256

    // Per-word cache: short words repeat a lot in text.
    private var cache: [[UInt32]: [Int32]] = [:]
    private static let cacheMaxWordLength = 64
    private static let cacheMaxEntries = 1 << 18

    // Scratch for the merge loop, reused across words.
    private var symId: [Int32] = []
    private var symPrev: [Int32] = []
    private var symNext: [Int32] = []
    private var heap: [UInt64] = []

    init(json: [String: Any], byteLevel: Bool, file: String) throws {
        let type = json["type"] as? String ?? "BPE"
        guard type == "BPE" else { throw QQQError.unsupported("\(file): model type \(type)") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = json[key] as? String, !s.isEmpty {
                throw QQQError.unsupported("\(file): BPE \(key) '\(s)'")
            }
        }
        if let d = json["dropout"] as? Double, d > 0 {
            throw QQQError.unsupported("\(file): BPE dropout \(d)")
        }
        guard let vocabJSON = json["vocab"] as? [String: Any] else {
            throw QQQError.badFile(path: file, reason: "model has no 'vocab' object")
        }
        var vocab = [[UInt8]: Int32](minimumCapacity: vocabJSON.count)
        var maxId = -1
        for (token, value) in vocabJSON {
            guard let id = TokenizerJSON.int(value), id >= 0, id < Int(Int32.max) else {
                throw QQQError.badFile(path: file, reason: "vocab entry '\(token)' has no valid id")
            }
            vocab[Array(token.utf8)] = Int32(id)
            maxId = max(maxId, id)
        }
        var idToToken = [String?](repeating: nil, count: maxId + 1)
        for (token, value) in vocabJSON { if let id = TokenizerJSON.int(value) { idToToken[id] = token } }
        self.vocab = vocab
        self.idToToken = idToToken
        self.byteLevel = byteLevel
        fuseUnk = TokenizerJSON.bool(json["fuse_unk"], default: false)
        byteFallback = TokenizerJSON.bool(json["byte_fallback"], default: false)
        ignoreMerges = TokenizerJSON.bool(json["ignore_merges"], default: false)
        if let unk = json["unk_token"] as? String {
            guard let id = vocab[Array(unk.utf8)] else {
                throw QQQError.badFile(path: file, reason: "unk_token '\(unk)' is not in the vocab")
            }
            unkId = id
        } else {
            unkId = nil
        }

        // Merges come as "a b" strings (older files) or ["a", "b"] pairs (newer ones).
        guard let mergeList = json["merges"] as? [Any] else {
            throw QQQError.badFile(path: file, reason: "model has no 'merges' list")
        }
        var merges = [UInt64: UInt64](minimumCapacity: mergeList.count)
        for (rank, item) in mergeList.enumerated() {
            let a: String, b: String
            if let s = item as? String {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw QQQError.badFile(path: file, reason: "merge \(rank) '\(s)' is not two tokens")
                }
                a = String(parts[0]); b = String(parts[1])
            } else if let pair = item as? [Any], pair.count == 2, let x = pair[0] as? String, let y = pair[1] as? String {
                a = x; b = y
            } else {
                throw QQQError.badFile(path: file, reason: "merge \(rank) is neither \"a b\" nor [a, b]")
            }
            let ab = Array(a.utf8), bb = Array(b.utf8)
            guard let ia = vocab[ab], let ib = vocab[bb], let inew = vocab[ab + bb] else {
                throw QQQError.badFile(path: file, reason: "merge \(rank) '\(a) \(b)' uses a token not in the vocab")
            }
            merges[UInt64(UInt32(ia)) << 32 | UInt64(UInt32(ib))] = UInt64(rank) << 32 | UInt64(UInt32(inew))
        }
        self.merges = merges
        mergeable = [Bool](repeating: false, count: maxId + 1)
        for (pair, value) in merges {
            mergeable[Int(pair >> 32)] = true
            mergeable[Int(pair & 0xFFFF_FFFF)] = true
            _ = value
        }

        for (bytes, id) in vocab {
            guard let s = String(bytes: bytes, encoding: .utf8) else { continue }
            let scalars = Array(s.unicodeScalars)
            for k in scalars.indices.dropFirst() {
                bigrams.insert(UInt64(scalars[k - 1].value) << 32 | UInt64(scalars[k].value))
            }
            if scalars.count == 1 {
                let v = scalars[0].value
                if v < 128 { asciiIds[Int(v)] = id } else { scalarIds[v] = id }
            }
            // "<0xNN>"
            if bytes.count == 6, bytes[0] == 0x3C, bytes[1] == 0x30, bytes[2] == 0x78, bytes[5] == 0x3E,
               let b = UInt8(String(decoding: bytes[3...4], as: UTF8.self), radix: 16),
               String(format: "<0x%02X>", Int(b)) == s {
                byteFallbackIds[Int(b)] = id
            }
        }
        for b in 0..<256 { byteLevelIds[b] = scalarId(ByteLevelAlphabet.byteToScalar[b]) }
    }

    @inline(__always)
    private func scalarId(_ v: UInt32) -> Int32 {
        if v < 128 { return asciiIds[Int(v)] }
        return scalarIds[v] ?? -1
    }

    func tokenId(_ bytes: [UInt8]) -> Int32? { vocab[bytes] }

    /// Appends the ids of one pre-tokenized word `s[lo..<hi]`.
    func encodeWord(_ s: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int, into out: inout [Int32]) {
        if hi <= lo { return }
        if ignoreMerges, let id = vocab[modelText(s, lo, hi)] {
            out.append(id)
            return
        }
        if !byteLevel && hi - lo > BPEModel.chunkThreshold {
            var start = lo
            for i in (lo + 1)..<hi where separable(s[i - 1], s[i]) {
                encodeChunk(s, start, i, into: &out)
                start = i
            }
            encodeChunk(s, start, hi, into: &out)
            return
        }
        encodeChunk(s, lo, hi, into: &out)
    }

    /// Whether no token can span the boundary between scalars `a` and `b`.
    @inline(__always)
    private func separable(_ a: UInt32, _ b: UInt32) -> Bool {
        let ia = scalarId(a), ib = scalarId(b)
        if ia >= 0 && ib >= 0 { return !bigrams.contains(UInt64(a) << 32 | UInt64(b)) }
        // An unknown scalar must never-merge itself (this also keeps unk runs whole).
        if ia < 0 && !neverMerges(a) { return false }
        if ib < 0 && !neverMerges(b) { return false }
        return true
    }

    /// An out-of-vocabulary scalar whose byte-fallback pieces take part in no merge.
    private func neverMerges(_ v: UInt32) -> Bool {
        guard byteFallback, let u = Unicode.Scalar(v) else { return false }
        for b in UTF8.encode(u)! {
            let id = byteFallbackIds[Int(b)]
            if id < 0 || mergeable[Int(id)] { return false }
        }
        return true
    }

    private func encodeChunk(_ s: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int, into out: inout [Int32]) {
        let cacheable = hi - lo <= BPEModel.cacheMaxWordLength
        var key: [UInt32] = []
        if cacheable {
            key = Array(s[lo..<hi])
            if let ids = cache[key] { out.append(contentsOf: ids); return }
        }
        let start = out.count
        initialSymbols(s, lo, hi)
        mergeAll(into: &out)
        if cacheable {
            if cache.count >= BPEModel.cacheMaxEntries { cache.removeAll(keepingCapacity: true) }
            cache[key] = Array(out[start...])
        }
    }

    /// The word as the vocabulary spells it, UTF-8.
    private func modelText(_ s: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int) -> [UInt8] {
        var text: [UInt8] = []
        for i in lo..<hi {
            guard let u = Unicode.Scalar(s[i]) else { continue }
            if byteLevel {
                for b in UTF8.encode(u)! { appendUTF8(ByteLevelAlphabet.byteToScalar[Int(b)], to: &text) }
            } else {
                appendUTF8(u.value, to: &text)
            }
        }
        return text
    }

    private func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        guard let u = Unicode.Scalar(v) else { return }
        out.append(contentsOf: UTF8.encode(u)!)
    }

    /// Fills `symId` with the word's characters as ids (merge_word of `tokenizers`).
    private func initialSymbols(_ s: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int) {
        symId.removeAll(keepingCapacity: true)
        // A pending unknown: flushed when a known character follows, fused with the next
        // unknown when fuse_unk. (As in `tokenizers`, byte fallback does not flush it.)
        var pendingUnk = false
        func known(_ id: Int32) {
            if pendingUnk { symId.append(unkId!); pendingUnk = false }
            symId.append(id)
        }
        func unknown(_ scalar: UInt32) {
            if byteFallback, let u = Unicode.Scalar(scalar) {
                let bytes = UTF8.encode(u)!
                if bytes.allSatisfy({ byteFallbackIds[Int($0)] >= 0 }) {
                    for b in bytes { symId.append(byteFallbackIds[Int(b)]) }
                    return
                }
            }
            guard let unk = unkId else { return }
            if pendingUnk && !fuseUnk { symId.append(unk) }
            pendingUnk = true
        }
        var utf8 = [UInt8](repeating: 0, count: 4)
        for i in lo..<hi {
            let v = s[i]
            if byteLevel {
                let n = BPEModel.encodeUTF8(v, into: &utf8)
                for k in 0..<n {
                    let id = byteLevelIds[Int(utf8[k])]
                    if id >= 0 { known(id) } else { unknown(ByteLevelAlphabet.byteToScalar[Int(utf8[k])]) }
                }
            } else {
                let id = scalarId(v)
                if id >= 0 { known(id) } else { unknown(v) }
            }
        }
        if pendingUnk { symId.append(unkId!) }
    }

    @inline(__always)
    private static func encodeUTF8(_ v: UInt32, into b: inout [UInt8]) -> Int {
        if v < 0x80 { b[0] = UInt8(v); return 1 }
        if v < 0x800 { b[0] = UInt8(0xC0 | (v >> 6)); b[1] = UInt8(0x80 | (v & 0x3F)); return 2 }
        if v < 0x10000 {
            b[0] = UInt8(0xE0 | (v >> 12)); b[1] = UInt8(0x80 | ((v >> 6) & 0x3F)); b[2] = UInt8(0x80 | (v & 0x3F))
            return 3
        }
        b[0] = UInt8(0xF0 | (v >> 18)); b[1] = UInt8(0x80 | ((v >> 12) & 0x3F))
        b[2] = UInt8(0x80 | ((v >> 6) & 0x3F)); b[3] = UInt8(0x80 | (v & 0x3F))
        return 4
    }

    @inline(__always)
    private func lookup(_ a: Int32, _ b: Int32) -> UInt64? {
        merges[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))]
    }

    /// Applies merges to `symId` over a linked list with a min-heap keyed (rank, position),
    /// skipping stale entries; appends the surviving symbols.
    private func mergeAll(into out: inout [Int32]) {
        let n = symId.count
        if n == 0 { return }
        if n == 1 { out.append(symId[0]); return }
        symPrev.removeAll(keepingCapacity: true)
        symNext.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        for i in 0..<n {
            symPrev.append(Int32(i - 1))
            symNext.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        symId.withUnsafeMutableBufferPointer { ids in
        symPrev.withUnsafeMutableBufferPointer { prev in
        symNext.withUnsafeMutableBufferPointer { next in
            var h = MinHeap(storage: [])
            swap(&h.storage, &heap)
            for i in 0..<(n - 1) {
                if let m = lookup(ids[i], ids[i + 1]) { h.push((m >> 32) << 32 | UInt64(i)) }
            }
            while let top = h.pop() {
                let rank = top >> 32
                let pos = Int(top & 0xFFFF_FFFF)
                // Removed symbols have id -1; a stale entry no longer has its pair at `pos`.
                if ids[pos] < 0 { continue }
                let right = Int(next[pos])
                if right < 0 { continue }
                guard let m = lookup(ids[pos], ids[right]), m >> 32 == rank else { continue }
                ids[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
                ids[right] = -1
                let after = next[right]
                next[pos] = after
                if after >= 0 { prev[Int(after)] = Int32(pos) }
                let before = prev[pos]
                if before >= 0, let m2 = lookup(ids[Int(before)], ids[pos]) {
                    h.push((m2 >> 32) << 32 | UInt64(before))
                }
                if after >= 0, let m2 = lookup(ids[pos], ids[Int(after)]) {
                    h.push((m2 >> 32) << 32 | UInt64(pos))
                }
            }
            swap(&h.storage, &heap)
            var i = 0
            while i >= 0 {
                out.append(ids[i])
                i = Int(next[i])
            }
        }}}
    }
}

/// Binary min-heap of packed (rank << 32 | position) keys.
struct MinHeap {
    var storage: [UInt64]

    mutating func push(_ v: UInt64) {
        storage.append(v)
        var i = storage.count - 1
        while i > 0 {
            let p = (i - 1) >> 1
            if storage[p] <= v { break }
            storage[i] = storage[p]
            i = p
        }
        storage[i] = v
    }

    mutating func pop() -> UInt64? {
        guard let last = storage.popLast() else { return nil }
        if storage.isEmpty { return last }
        let top = storage[0]
        let n = storage.count
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            let r = l + 1
            let c = (r < n && storage[r] < storage[l]) ? r : l
            if storage[c] >= last { break }
            storage[i] = storage[c]
            i = c
        }
        storage[i] = last
        return top
    }
}
