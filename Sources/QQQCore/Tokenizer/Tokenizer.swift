import Foundation

/// A Hugging Face `tokenizer.json` tokenizer (BPE models: byte-level as in GPT-2/SmolLM2/Qwen2/LLaMA-3,
/// and SentencePiece-style with byte fallback as in LLaMA-2/Mistral). Encoding gives the ids that
/// `tokenizers` gives: added tokens split first, then normalizer, pre-tokenizer, BPE, post-processor.
/// Not thread-safe (it caches words); use one instance per thread.
public final class Tokenizer {
    let model: BPEModel
    let added: AddedTokens
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let postProcessor: PostProcessor
    let byteLevel: Bool
    /// Byte -> id of its byte-level symbol.
    private var byteSymbolIds: [Int32] = []
    private var cache: [[UInt8]: [Int32]] = [:]  // exact bytes, as for the vocabulary
    private let debugTiming = ProcessInfo.processInfo.environment["QQQ_TOKENIZER_TIMING"] == "1"
    public let bosTokenId: Int32?
    public let eosTokenId: Int32?

    /// Loads `tokenizer.json` (and `tokenizer_config.json` if present) from a model folder.
    public static func load(directory: String) throws -> Tokenizer {
        let path = (directory as NSString).appendingPathComponent("tokenizer.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QQQError.badFile(path: path, reason: "missing: the model folder needs a tokenizer.json")
        }
        let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
        return try Tokenizer(tokenizerJSON: data, configJSON: FileManager.default.contents(atPath: configPath), path: path)
    }

    public init(tokenizerJSON: Data, configJSON: Data?, path: String) throws {
        guard let json = try? JSONSerialization.jsonObject(with: tokenizerJSON) as? [String: Any] else {
            throw QQQError.badFile(path: path, reason: "not a JSON object")
        }
        guard let modelJSON = json["model"] as? [String: Any] else { throw QQQError.badFile(path: path, reason: "no \"model\"") }
        let type = modelJSON["type"] as? String ?? "BPE"
        guard type == "BPE" else { throw QQQError.unsupported("tokenizer model '\(type)' in \(path) (only BPE)") }
        guard let vocabJSON = modelJSON["vocab"] as? [String: Int] else {
            throw QQQError.badFile(path: path, reason: "BPE model has no vocab object")
        }
        var vocab: [[UInt8]: Int32] = [:]
        vocab.reserveCapacity(vocabJSON.count)
        for (k, v) in vocabJSON { vocab[Array(k.utf8)] = Int32(v) }
        guard vocab.count == vocabJSON.count else { throw QQQError.badFile(path: path, reason: "vocabulary has duplicate entries") }
        let addedJSON = json["added_tokens"] as? [[String: Any]] ?? []
        for item in addedJSON {
            if let c = item["content"] as? String, let id = item["id"] as? Int, vocab[Array(c.utf8)] == nil { vocab[Array(c.utf8)] = Int32(id) }
        }
        var merges: [([UInt8], [UInt8])] = []
        for item in modelJSON["merges"] as? [Any] ?? [] {
            if let s = item as? String {
                let bytes = Array(s.utf8)
                guard let space = bytes.firstIndex(of: 0x20) else { throw QQQError.badFile(path: path, reason: "malformed merge '\(s)'") }
                merges.append((Array(bytes[..<space]), Array(bytes[(space + 1)...])))
            } else if let pair = item as? [String], pair.count == 2 {
                merges.append((Array(pair[0].utf8), Array(pair[1].utf8)))
            } else {
                throw QQQError.badFile(path: path, reason: "malformed merges list")
            }
        }
        model = try BPEModel(vocab: vocab, merges: merges, byteFallback: modelJSON["byte_fallback"] as? Bool ?? false,
                             unkToken: modelJSON["unk_token"] as? String, fuseUnk: modelJSON["fuse_unk"] as? Bool ?? false,
                             ignoreMerges: modelJSON["ignore_merges"] as? Bool ?? false, path: path)
        added = AddedTokens(json: addedJSON)
        normalizer = try (json["normalizer"] as? [String: Any]).map { try Normalizer(json: $0, path: path) }
        preTokenizer = try (json["pre_tokenizer"] as? [String: Any]).map { try PreTokenizer(json: $0, path: path) }
        postProcessor = try PostProcessor(json: json["post_processor"] as? [String: Any], path: path)
        byteLevel = preTokenizer?.isByteLevel ?? false
        if byteLevel {
            // Some vocabularies lack bytes that never occur in UTF-8 text (e.g. 0xC0): as in HF with no
            // unk token, such a byte yields no id (-1 marks it).
            byteSymbolIds = ByteLevelAlphabet.byteToScalar.map { vocab[Array(String($0).utf8)] ?? -1 }
        }
        // BOS/EOS: tokenizer_config.json names them (string or {"content": ...}).
        var bos: Int32?, eos: Int32?
        if let configJSON, let config = try? JSONSerialization.jsonObject(with: configJSON) as? [String: Any] {
            func name(_ key: String) -> String? {
                (config[key] as? String) ?? ((config[key] as? [String: Any])?["content"] as? String)
            }
            bos = name("bos_token").flatMap { vocab[Array($0.utf8)] }
            eos = name("eos_token").flatMap { vocab[Array($0.utf8)] }
        }
        bosTokenId = bos
        eosTokenId = eos
    }

    public var vocabSize: Int { model.idToToken.count }

    public func tokenId(_ token: String) -> Int32? { model.vocab[Array(token.utf8)] }

    /// Token ids as Hugging Face `tokenizer(text)` gives them (post-processor specials included).
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        for (k, segment) in added.split(text).enumerated() {
            switch segment {
            case let .token(id): ids.append(id)
            case let .text(piece): encodeSegment(String(piece), first: k == 0, into: &ids)
            }
        }
        return addSpecialTokens ? postProcessor.apply(ids) : ids
    }

    private func encodeSegment(_ text: String, first: Bool, into ids: inout [Int32]) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let normalized = normalizer?.apply(text) ?? text
        let words = preTokenizer?.apply([normalized], firstSegment: first) ?? [normalized]
        if debugTiming { print("tokenizer: normalize+pretokenize \(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) s, \(words.count) words") }
        for word in words where !word.isEmpty {
            let key = Array(word.utf8)
            if let hit = cache[key] { ids.append(contentsOf: hit); continue }
            var symbols: [Int32]
            if byteLevel {
                if model.ignoreMerges, let whole = model.vocab[Array(ByteLevelAlphabet.encode(Substring(word)).utf8)] {
                    symbols = [whole]
                } else {
                    symbols = word.utf8.map { byteSymbolIds[Int($0)] }
                    if symbols.contains(-1) { symbols.removeAll { $0 < 0 } }
                    model.merge(&symbols)
                }
            } else {
                if model.ignoreMerges, let whole = model.vocab[key] {
                    symbols = [whole]
                } else {
                    symbols = model.initialSymbols(Substring(word))
                    model.merge(&symbols)
                }
            }
            if key.count <= 64 { cache[key] = symbols }
            if debugTiming && key.count > 1000 { print("tokenizer: long word of \(key.count) bytes done at \(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) s") }
            ids.append(contentsOf: symbols)
        }
    }

    /// Text of token ids (byte-level symbols mapped back to bytes; SentencePiece "▁" to spaces and
    /// `<0xNN>` pieces to bytes, one leading space stripped).
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        let specials = Set(added.entries.filter(\.special).map(\.id))
        for id in ids {
            guard id >= 0, Int(id) < model.idToToken.count else { continue }
            if skipSpecialTokens && specials.contains(id) { continue }
            let token = model.idToToken[Int(id)]
            if specials.contains(id) { bytes += Array(token.utf8); continue }
            if byteLevel {
                for s in token.unicodeScalars {
                    if let b = ByteLevelAlphabet.scalarToByte[s.value] { bytes.append(b) } else { bytes += Array(String(s).utf8) }
                }
            } else if token.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">"), let b = UInt8(token.dropFirst(3).dropLast(), radix: 16) {
                bytes.append(b)
            } else {
                bytes += Array(token.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
            }
        }
        var text = String(decoding: bytes, as: UTF8.self)
        if !byteLevel && text.hasPrefix(" ") { text.removeFirst() }
        return text
    }
}
