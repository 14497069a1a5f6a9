import Foundation
import Testing
@testable import QQQCore

/// Token ids against Hugging Face `tokenizers` (../shared/reference): awkward strings and the whole
/// WikiText-2 test text (count, first and last 64 ids, SHA-256 of all ids), for byte-level BPE (SmolLM2)
/// and both tokenizer.json forms of a SentencePiece BPE with byte fallback (Mistral-7B / LLaMA-2 style).
@Suite("Tokenizers vs Hugging Face tokenizers", .serialized)
struct TokenizerReferenceTests {
    static let spDir = TokenizerTestSupport.sharedDir.appendingPathComponent("reference/sentencepiece-bpe")

    /// The reference block of one SentencePiece variant and its tokenizer.
    static func sentencePiece(_ variant: String) throws -> (spec: [String: Any], tok: Tokenizer)? {
        guard let ref = TokenizerTestSupport.readJSON(spDir.appendingPathComponent("sentencepiece-bpe-tokens.json")) as? [String: Any],
              let spec = (ref["variants"] as? [String: Any])?[variant] as? [String: Any], let file = spec["file"] as? String else {
            Issue.record("sentencepiece-bpe-tokens.json: no variant \(variant)")
            return nil
        }
        let url = spDir.appendingPathComponent(file)
        return (spec, try Tokenizer(tokenizerJSON: Data(contentsOf: url), configJSON: nil, path: url.path))
    }

    static func smol() throws -> (ref: [String: Any], tok: Tokenizer)? {
        guard let ref = TokenizerTestSupport.readJSON(TokenizerTestSupport.sharedDir.appendingPathComponent("reference/smollm2-135m-tokens.json"))
                as? [String: Any], let dir = TokenizerTestSupport.smolLM2Dir() else { return nil }
        return (ref, try Tokenizer.load(directory: dir))
    }

    /// Encodes the whole test text and compares it with a `wikitext2_test` reference block.
    static func checkWikiText(_ tok: Tokenizer, _ want: [String: Any]?, label: String, first: String, last: String, sha: String,
                              lossless: Bool = false) {
        guard let want, let text = TokenizerTestSupport.wikiTestText() else {
            Issue.record("\(label): no wikitext2_test reference or text")
            return
        }
        let clock = Date()
        let ids = tok.encode(text)
        print("\(label): \(ids.count) ids for WikiText-2 test in \(String(format: "%.2f", Date().timeIntervalSince(clock))) s")
        #expect(ids.count == TokenizerJSON.int(want["count"]), "\(label)")
        #expect(Array(ids.prefix(64)) == TokenizerTestSupport.ints(want[first]), "\(label)")
        #expect(Array(ids.suffix(64)) == TokenizerTestSupport.ints(want[last]), "\(label)")
        #expect(TokenizerTestSupport.sha256(ids: ids) == want[sha] as? String, "\(label)")
        if lossless { #expect(text.hasPrefix(tok.decode(Array(ids.prefix(200)))), "\(label): decoding the first ids") }
    }

    @Test func smolLM2Strings() throws {
        guard let (ref, tok) = try Self.smol() else { return }
        let strings = ref["strings"] as? [[String: Any]] ?? []
        #expect(strings.count >= 10)
        for s in strings {
            let text = s["text"] as? String ?? ""
            let expected = TokenizerTestSupport.ints(s["ids"])
            #expect(tok.encode(text) == expected, "text \(text.debugDescription)")
            #expect(tok.decode(expected) == text)  // byte-level decoding is lossless
        }
        #expect(tok.vocabSize == 49152)
        #expect(tok.bosTokenId == 1 && tok.eosTokenId == 2)
        #expect(tok.tokenId("<|im_end|>") == 2)
        #expect(tok.decode(tok.encode("<|im_start|>user\nHi<|im_end|>"), skipSpecialTokens: true) == "user\nHi")
    }

    @Test func smolLM2WikiText() throws {
        guard let (ref, tok) = try Self.smol() else { return }
        Self.checkWikiText(tok, ref["wikitext2_test"] as? [String: Any], label: "SmolLM2", first: "first_64", last: "last_64",
                           sha: "sha256_of_ids_as_int32_le", lossless: true)
    }

    @Test(arguments: ["metaspace", "normalizer"])
    func sentencePieceStrings(variant: String) throws {
        guard let (spec, tok) = try Self.sentencePiece(variant) else { return }
        let strings = spec["strings"] as? [[String: Any]] ?? []
        #expect(strings.count >= 10)
        for s in strings {
            let text = s["text"] as? String ?? ""
            #expect(tok.encode(text) == TokenizerTestSupport.ints(s["ids"]), "\(variant): \(text.debugDescription)")
        }
        #expect(tok.bosTokenId == 1)
        #expect(tok.vocabSize == 32000)
        #expect(tok.decode([1, 22557, 1526]) == "<s> Hello world")  // as HF: Strip removes a leading space only
        #expect(tok.decode([22557, 1526]) == "Hello world")
        #expect(tok.decode(tok.encode("Ünïcödé 中文 🤖"), skipSpecialTokens: true) == "Ünïcödé 中文 🤖")
    }

    @Test(arguments: ["metaspace", "normalizer"])
    func sentencePieceWikiText(variant: String) throws {
        guard let (spec, tok) = try Self.sentencePiece(variant) else { return }
        Self.checkWikiText(tok, spec["wikitext2_test"] as? [String: Any], label: "SentencePiece \(variant)", first: "first64",
                           last: "last64", sha: "sha256_int32_le")
    }

    @Test func missingOrBrokenTokenizerIsAOneLineError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try Tokenizer.load(directory: dir.path) } throws: { "\($0)".contains("tokenizer.json") && !"\($0)".contains("\n") }
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect { try Tokenizer.load(directory: dir.path) } throws: { "\($0)".contains("tokenizer.json") }
        try Data(#"{"model": {"type": "Unigram", "vocab": []}}"#.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect { try Tokenizer.load(directory: dir.path) } throws: { "\($0)".contains("Unigram") }
    }
}
