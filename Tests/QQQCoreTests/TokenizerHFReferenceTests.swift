import Foundation
import Testing
@testable import QQQCore

/// Against the ids Hugging Face `tokenizers` gives (reference files under shared/reference).
@Suite struct TokenizerHFReferenceTests {
    static let spDir = TokenizerTestSupport.sharedDir.appendingPathComponent("reference/sentencepiece-bpe")

    static func sentencePiece(_ file: String) throws -> Tokenizer? {
        let url = spDir.appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            print("skip: \(url.path) not found")
            return nil
        }
        return try Tokenizer(tokenizerJSON: data, configJSON: nil, path: url.path)
    }

    @Test(arguments: ["metaspace", "normalizer"])
    func sentencePieceStrings(variant: String) throws {
        guard let ref = TokenizerTestSupport.readJSON(Self.spDir.appendingPathComponent("sentencepiece-bpe-tokens.json"))
                as? [String: Any],
              let v = (ref["variants"] as? [String: Any])?[variant] as? [String: Any],
              let file = v["file"] as? String, let tok = try Self.sentencePiece(file) else { return }
        let strings = v["strings"] as? [[String: Any]] ?? []
        #expect(strings.count >= 10)
        for s in strings {
            let text = s["text"] as? String ?? ""
            let expected = TokenizerTestSupport.ints(s["ids"])
            #expect(tok.encode(text) == expected, "text \(text.debugDescription)")
        }
        #expect(tok.bosTokenId == 1)
        #expect(tok.vocabSize == 32000)
        #expect(tok.decode(tok.encode("Hello world")) == "<s> Hello world")
        #expect(tok.decode(tok.encode("Ünïcödé 中文 🤖"), skipSpecialTokens: true) == "Ünïcödé 中文 🤖")
    }

    @Test(arguments: ["metaspace", "normalizer"])
    func sentencePieceWikiText(variant: String) throws {
        guard let ref = TokenizerTestSupport.readJSON(Self.spDir.appendingPathComponent("sentencepiece-bpe-tokens.json"))
                as? [String: Any],
              let v = (ref["variants"] as? [String: Any])?[variant] as? [String: Any],
              let file = v["file"] as? String, let tok = try Self.sentencePiece(file),
              let wiki = v["wikitext2_test"] as? [String: Any],
              let text = TokenizerTestSupport.wikiTestText() else { return }
        let start = Date()
        let ids = tok.encode(text)
        print("sentencepiece \(variant): \(ids.count) ids in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        #expect(ids.count == TokenizerJSON.int(wiki["count"]))
        #expect(Array(ids.prefix(64)) == TokenizerTestSupport.ints(wiki["first64"]))
        #expect(Array(ids.suffix(64)) == TokenizerTestSupport.ints(wiki["last64"]))
        #expect(TokenizerTestSupport.sha256(ids: ids) == wiki["sha256_int32_le"] as? String)
    }

    static func smol() throws -> Tokenizer? {
        guard let dir = TokenizerTestSupport.smolLM2Dir() else { return nil }
        return try Tokenizer.load(directory: dir)
    }

    static var smolRef: [String: Any]? {
        TokenizerTestSupport.readJSON(TokenizerTestSupport.sharedDir.appendingPathComponent("reference/smollm2-135m-tokens.json"))
            as? [String: Any]
    }

    @Test func smolLM2Strings() throws {
        guard let ref = Self.smolRef, let tok = try Self.smol() else { return }
        let strings = ref["strings"] as? [[String: Any]] ?? []
        #expect(strings.count >= 10)
        for s in strings {
            let text = s["text"] as? String ?? ""
            let expected = TokenizerTestSupport.ints(s["ids"])
            #expect(tok.encode(text) == expected, "text \(text.debugDescription)")
            // Byte-level decoding is lossless.
            #expect(tok.decode(expected) == text)
        }
        #expect(tok.vocabSize == 49152)
        #expect(tok.bosTokenId == 1 && tok.eosTokenId == 2)
        #expect(tok.tokenId("<|im_end|>") == 2)
        #expect(tok.decode(tok.encode("<|im_start|>user\nHi<|im_end|>"), skipSpecialTokens: true) == "user\nHi")
    }

    @Test func smolLM2WikiText() throws {
        let loadStart = Date()
        guard let tok = try Self.smol() else { return }
        print("smollm2: tokenizer loaded in \(String(format: "%.2f", Date().timeIntervalSince(loadStart))) s")
        guard let ref = Self.smolRef, let wiki = ref["wikitext2_test"] as? [String: Any],
              let text = TokenizerTestSupport.wikiTestText() else { return }
        let start = Date()
        let ids = tok.encode(text)
        print("smollm2: \(ids.count) ids in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        #expect(ids.count == 304978)
        #expect(ids.count == TokenizerJSON.int(wiki["count"]))
        #expect(Array(ids.prefix(64)) == TokenizerTestSupport.ints(wiki["first_64"]))
        #expect(Array(ids.suffix(64)) == TokenizerTestSupport.ints(wiki["last_64"]))
        #expect(TokenizerTestSupport.sha256(ids: ids) == wiki["sha256_of_ids_as_int32_le"] as? String)
    }
}
