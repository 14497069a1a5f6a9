import Foundation

/// A Hugging Face `tokenizer.json` tokenizer (BPE models: GPT-2 style byte level, and
/// SentencePiece style with byte fallback) that gives the ids `tokenizers` gives.
/// Pipeline per call: added tokens split out -> normalizer -> pre-tokenizer -> BPE -> post-processor.
public final class Tokenizer {
    public let path: String
    private let addedTokens: [AddedToken]
    /// Matchers for added tokens with normalized == false (on raw text) and true (on normalized text).
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    private let normalizer: Normalizer?
    private let preTokenizer: PreTokenizer?
    private let model: BPEModel
    private let postProcessor: PostProcessor
    private let decoder: TokenDecoder?
    private let addedById: [Int32: AddedToken]
    private let addedByContent: [[UInt32]: Int32]
    /// The model's cache and scratch buffers are not thread-safe.
    private let lock = NSLock()

    public let bosTokenId: Int32?
    public let eosTokenId: Int32?

    /// Loads `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a model folder.
    public static func load(directory: String) throws -> Tokenizer {
        let dir = URL(fileURLWithPath: directory)
        let tokPath = dir.appendingPathComponent("tokenizer.json").path
        guard FileManager.default.fileExists(atPath: tokPath) else {
            throw QQQError.badFile(path: tokPath, reason: "missing")
        }
        guard let tok = FileManager.default.contents(atPath: tokPath) else {
            throw QQQError.badFile(path: tokPath, reason: "cannot be read")
        }
        let cfgPath = dir.appendingPathComponent("tokenizer_config.json").path
        let cfg = FileManager.default.contents(atPath: cfgPath)
        return try Tokenizer(tokenizerJSON: tok, configJSON: cfg, path: tokPath)
    }

    /// `path` names the tokenizer.json in error messages.
    public init(tokenizerJSON: Data, configJSON: Data?, path: String) throws {
        self.path = path
        let root: [String: Any]
        do {
            guard let obj = try JSONSerialization.jsonObject(with: tokenizerJSON) as? [String: Any] else {
                throw QQQError.badFile(path: path, reason: "not a JSON object")
            }
            root = obj
        } catch let e as QQQError {
            throw e
        } catch {
            throw QQQError.badFile(path: path, reason: "not valid JSON")
        }
        guard let modelJSON = TokenizerJSON.object(root["model"]) else {
            throw QQQError.badFile(path: path, reason: "no 'model' object")
        }

        normalizer = try TokenizerJSON.object(root["normalizer"]).map { try Normalizer.parse($0, file: path) }
        preTokenizer = try TokenizerJSON.object(root["pre_tokenizer"]).map { try PreTokenizer.parse($0, file: path) }
        let bpe = try BPEModel(json: modelJSON, byteLevel: preTokenizer?.isByteLevel ?? false, file: path)
        model = bpe
        let post = try PostProcessor.parse(TokenizerJSON.object(root["post_processor"]), file: path)
        postProcessor = post
        decoder = try TokenizerJSON.object(root["decoder"]).map { try TokenDecoder.parse($0, file: path) }

        var added: [AddedToken] = []
        for item in root["added_tokens"] as? [Any] ?? [] {
            guard let o = TokenizerJSON.object(item), let id = TokenizerJSON.int(o["id"]),
                  let content = o["content"] as? String else {
                throw QQQError.badFile(path: path, reason: "added_tokens entry without id or content")
            }
            let special = TokenizerJSON.bool(o["special"], default: false)
            // As in `tokenizers`, an added token already in the model's vocabulary keeps that id.
            let resolved = bpe.tokenId(Array(content.utf8)) ?? Int32(id)
            added.append(AddedToken(id: resolved, content: TokenizerJSON.scalars(content), special: special,
                                    lstrip: TokenizerJSON.bool(o["lstrip"], default: false),
                                    rstrip: TokenizerJSON.bool(o["rstrip"], default: false),
                                    singleWord: TokenizerJSON.bool(o["single_word"], default: false),
                                    normalized: TokenizerJSON.bool(o["normalized"], default: !special)))
        }
        addedTokens = added
        let raw = added.filter { !$0.normalized }
        rawMatcher = AddedTokenMatcher(tokens: raw, patterns: raw.map { $0.content })
        let norm = added.filter { $0.normalized }
        let normalizer = self.normalizer
        normalizedMatcher = AddedTokenMatcher(tokens: norm, patterns: norm.map { normalizer?.apply($0.content) ?? $0.content })
        var byId: [Int32: AddedToken] = [:], byContent: [[UInt32]: Int32] = [:]
        for t in added { byId[t.id] = t; byContent[t.content] = t.id }
        addedById = byId
        addedByContent = byContent

        // BOS/EOS as transformers reports them: from tokenizer_config.json, else the token the
        // post-processor puts first.
        var config: [String: Any] = [:]
        if let data = configJSON {
            guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                let cfgPath = URL(fileURLWithPath: path).deletingLastPathComponent()
                    .appendingPathComponent("tokenizer_config.json").path
                throw QQQError.badFile(path: cfgPath, reason: "not a valid JSON object")
            }
            config = obj
        }
        func configToken(_ key: String) -> String? {
            if let s = config[key] as? String { return s }
            if let o = TokenizerJSON.object(config[key]) { return o["content"] as? String }
            return nil
        }
        func lookup(_ s: String) -> Int32? {
            byContent[TokenizerJSON.scalars(s)] ?? bpe.tokenId(Array(s.utf8))
        }
        bosTokenId = configToken("bos_token").flatMap(lookup) ?? post.firstPrefixId
        eosTokenId = configToken("eos_token").flatMap(lookup)
    }

    /// Number of ids, added tokens included (`len(tokenizer)`).
    public var vocabSize: Int {
        max(model.idToToken.count, (addedTokens.map { Int($0.id) }.max() ?? -1) + 1)
    }

    public func tokenId(_ token: String) -> Int32? {
        addedByContent[TokenizerJSON.scalars(token)] ?? model.tokenId(Array(token.utf8))
    }

    /// Token ids as HF `tokenizer(text)` gives them with default special-token behaviour
    /// (the post-processor's BOS/EOS included when `addSpecialTokens`).
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        let scalars = TokenizerJSON.scalars(text)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count / 3 + 4)
        lock.lock()
        for seg in rawMatcher.split(scalars, 0..<scalars.count) {
            switch seg {
            case .token(let id):
                ids.append(id)
            case .text(let r):
                var piece = Array(scalars[r])
                if let n = normalizer { piece = n.apply(piece) }
                for seg2 in normalizedMatcher.split(piece, 0..<piece.count) {
                    switch seg2 {
                    case .token(let id): ids.append(id)
                    case .text(let r2):
                        encodeText(Pieces(buf: piece, ranges: [r2], atInputStart: r.lowerBound == 0 && r2.lowerBound == 0),
                                   into: &ids)
                    }
                }
            }
        }
        lock.unlock()
        return addSpecialTokens ? postProcessor.apply(ids) : ids
    }

    private func encodeText(_ pieces: Pieces, into ids: inout [Int32]) {
        let words = preTokenizer?.apply(pieces) ?? pieces
        words.buf.withUnsafeBufferPointer { s in
            for r in words.ranges { model.encodeWord(s, r.lowerBound, r.upperBound, into: &ids) }
        }
    }

    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let t = addedById[id] {
                if skipSpecialTokens && t.special { continue }
                tokens.append(String(scalarValues: t.content))
            } else if id >= 0, Int(id) < model.idToToken.count, let t = model.idToToken[Int(id)] {
                tokens.append(t)
            }
        }
        guard let d = decoder else { return tokens.joined(separator: " ") }
        return d.apply(tokens).joined()
    }
}
