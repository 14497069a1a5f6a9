/// Byte-pair encoding with Hugging Face `tokenizers` semantics: merges are applied lowest rank first,
/// ties to the leftmost position, over the symbols of one pre-tokenized word (`Word::merge_all`).
final class BPEModel {
    /// Keyed by exact UTF-8 bytes: Swift `String` keys compare by canonical equivalence, which would
    /// merge distinct vocabulary entries such as U+212B and U+00C5.
    let vocab: [[UInt8]: Int32]
    let idToToken: [String]
    /// (left id << 32 | right id) -> (rank << 32 | merged id)
    private let merges: [UInt64: UInt64]
    let byteFallback: Bool
    let unkId: Int32?
    let fuseUnk: Bool
    let ignoreMerges: Bool
    /// Vocabulary ids of the `<0xNN>` byte tokens (byte fallback), when present.
    private(set) var byteTokenIds: [Int32?] = Array(repeating: nil, count: 256)

    init(vocab: [[UInt8]: Int32], merges: [([UInt8], [UInt8])], byteFallback: Bool, unkToken: String?,
         fuseUnk: Bool, ignoreMerges: Bool, path: String) throws {
        self.vocab = vocab
        var names = [String](repeating: "", count: (vocab.values.max().map { Int($0) } ?? -1) + 1)
        for (token, id) in vocab { names[Int(id)] = String(decoding: token, as: UTF8.self) }
        idToToken = names
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocab[a], let ib = vocab[b], let merged = vocab[a + b] else {
                throw QQQError.badFile(path: path, reason: "merge \(rank) '\(String(decoding: a, as: UTF8.self)) \(String(decoding: b, as: UTF8.self))' uses tokens absent from the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: ia)) << 32 | UInt64(UInt32(bitPattern: ib))
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged)) }
        }
        self.merges = table
        self.byteFallback = byteFallback
        unkId = unkToken.flatMap { vocab[Array($0.utf8)] }
        self.fuseUnk = fuseUnk
        self.ignoreMerges = ignoreMerges
        for b in 0..<256 {
            byteTokenIds[b] = vocab[Array(String(format: "<0x%02X>", b).utf8)]
        }
    }

    @inline(__always) private func lookup(_ a: Int32, _ b: Int32) -> (rank: UInt32, merged: Int32)? {
        guard let v = merges[UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))] else { return nil }
        return (UInt32(v >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: v)))
    }

    /// Initial symbols of a (non byte-level) word: one per character in the vocabulary, else its UTF-8
    /// bytes as `<0xNN>` tokens (byte fallback), else unk (consecutive unks fused when asked).
    func initialSymbols(_ word: Substring) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(word.unicodeScalars.count)
        var lastWasUnk = false
        for scalar in word.unicodeScalars {
            if let id = vocab[Array(String(scalar).utf8)] {
                ids.append(id); lastWasUnk = false
                continue
            }
            if byteFallback {
                var allBytes = true
                var bytes: [Int32] = []
                for b in String(scalar).utf8 {
                    if let id = byteTokenIds[Int(b)] { bytes.append(id) } else { allBytes = false }
                }
                if allBytes { ids.append(contentsOf: bytes); lastWasUnk = false; continue }
            }
            if let unk = unkId {
                if !(fuseUnk && lastWasUnk) { ids.append(unk) }
                lastWasUnk = true
            }
        }
        return ids
    }

    /// Applies the merges to `ids` in place.
    func merge(_ ids: inout [Int32]) {
        if ids.count < 2 { return }
        if ids.count <= 48 { mergeSmall(&ids) } else { mergeLarge(&ids) }
    }

    /// Quadratic scan: cheapest for the short words of byte-level BPE.
    private func mergeSmall(_ ids: inout [Int32]) {
        while ids.count >= 2 {
            var bestRank = UInt32.max, bestPos = -1
            var bestId: Int32 = 0
            for i in 0..<(ids.count - 1) {
                if let m = lookup(ids[i], ids[i + 1]), m.rank < bestRank {
                    bestRank = m.rank; bestPos = i; bestId = m.merged
                }
            }
            if bestPos < 0 { return }
            ids[bestPos] = bestId
            ids.remove(at: bestPos + 1)
        }
    }

    /// Heap of candidate merges over a linked list of symbols: O(n log n) for long words (a whole
    /// SentencePiece segment can be the entire input).
    private func mergeLarge(_ ids: inout [Int32]) {
        let n = ids.count
        var sym = ids
        var prev = [Int32](unsafeUninitializedCapacity: n) { b, c in for i in 0..<n { b[i] = Int32(i - 1) }; c = n }
        var next = [Int32](unsafeUninitializedCapacity: n) { b, c in for i in 0..<n { b[i] = i + 1 < n ? Int32(i + 1) : -1 }; c = n }
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for i in 0..<(n - 1) {
            if let m = lookup(sym[i], sym[i + 1]) { heap.push(rank: m.rank, pos: Int32(i), merged: m.merged) }
        }
        while let top = heap.pop() {
            let pos = Int(top.pos)
            guard alive[pos] else { continue }
            let right = Int(next[pos])
            guard right >= 0, let m = lookup(sym[pos], sym[right]), m.merged == top.merged else { continue }
            sym[pos] = top.merged
            alive[right] = false
            let after = next[right]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = Int(prev[pos])
            if before >= 0, let m2 = lookup(sym[before], sym[pos]) {
                heap.push(rank: m2.rank, pos: Int32(before), merged: m2.merged)
            }
            if after >= 0, let m2 = lookup(sym[pos], sym[Int(after)]) {
                heap.push(rank: m2.rank, pos: Int32(pos), merged: m2.merged)
            }
        }
        ids.removeAll(keepingCapacity: true)
        var i = 0
        while i >= 0 && i < n {
            ids.append(sym[i])
            i = Int(next[i])
        }
    }
}

/// Min-heap of (rank, position) with the merged id as payload.
struct MergeHeap {
    private var keys: [UInt64] = []   // rank << 32 | pos
    private var payload: [Int32] = []

    mutating func push(rank: UInt32, pos: Int32, merged: Int32) {
        keys.append(UInt64(rank) << 32 | UInt64(UInt32(bitPattern: pos)))
        payload.append(merged)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if keys[parent] <= keys[i] { break }
            keys.swapAt(parent, i); payload.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> (pos: Int32, merged: Int32)? {
        guard let first = keys.first else { return nil }
        let result = (Int32(bitPattern: UInt32(truncatingIfNeeded: first)), payload[0])
        let lastKey = keys.removeLast(), lastPayload = payload.removeLast()
        if !keys.isEmpty {
            keys[0] = lastKey; payload[0] = lastPayload
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < keys.count && keys[l] < keys[m] { m = l }
                if r < keys.count && keys[r] < keys[m] { m = r }
                if m == i { break }
                keys.swapAt(m, i); payload.swapAt(m, i)
                i = m
            }
        }
        return result
    }
}
