import Foundation
import Testing
@testable import QQQCore

/// Pipelines the shipped tokenizers do not use but real checkpoints do (LLaMA-3 and Qwen2 Split
/// regexes with ByteLevel use_regex=false, NFC, ignore_merges, a Sequence post-processor, ByteLevel
/// add_prefix_space, lstrip/rstrip and normalized added tokens, Metaspace prepend_scheme "first"
/// with split). Each variant is made from the SmolLM2 or Mistral tokenizer.json by replacing a few
/// fields, as Fixtures/tokenizer-variants.json says; its ids there come from Hugging Face
/// `tokenizers` 0.23.3 (`Tokenizer.from_str(json).encode(text).ids`).
@Suite struct TokenizerVariantTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer-variants.json")

    static func baseJSON(_ name: String) -> (Data, String)? {
        let path: String
        if name == "smollm2" {
            guard let dir = TokenizerTestSupport.smolLM2Dir() else { return nil }
            path = dir + "/tokenizer.json"
        } else {
            path = TokenizerTestSupport.sharedDir.appendingPathComponent("reference/sentencepiece-bpe/tokenizer-metaspace.json").path
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            print("skip: \(path) not found")
            return nil
        }
        return (data, path)
    }

    static func variant(_ spec: [String: Any]) throws -> Tokenizer? {
        guard let base = spec["base"] as? String, let (data, path) = baseJSON(base),
              var root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        for (key, value) in spec["override"] as? [String: Any] ?? [:] { root[key] = value }
        if let extra = spec["extra_added_tokens"] as? [Any], !extra.isEmpty {
            root["added_tokens"] = (root["added_tokens"] as? [Any] ?? []) + extra
        }
        if var model = root["model"] as? [String: Any] {
            for (key, value) in spec["model_override"] as? [String: Any] ?? [:] { model[key] = value }
            root["model"] = model
        }
        let json = try JSONSerialization.data(withJSONObject: root)
        return try Tokenizer(tokenizerJSON: json, configJSON: nil, path: path)
    }

    static let names = ["llama3", "qwen2", "gpt2prefix", "metaspacefirst"]

    @Test(arguments: names)
    func variantStrings(name: String) throws {
        guard let fx = TokenizerTestSupport.readJSON(Self.fixture) as? [String: Any],
              let spec = (fx["variants"] as? [String: Any])?[name] as? [String: Any] else {
            Issue.record("fixture \(Self.fixture.path) unreadable")
            return
        }
        guard let tok = try Self.variant(spec) else { return }
        let strings = spec["strings"] as? [[String: Any]] ?? []
        #expect(strings.count == 15)
        for s in strings {
            let text = s["text"] as? String ?? ""
            #expect(tok.encode(text) == TokenizerTestSupport.ints(s["ids"]), "\(name): \(text.debugDescription)")
        }
    }

    @Test(arguments: names)
    func variantWikiText(name: String) throws {
        guard let fx = TokenizerTestSupport.readJSON(Self.fixture) as? [String: Any],
              let spec = (fx["variants"] as? [String: Any])?[name] as? [String: Any],
              let wiki = spec["wikitext2_test"] as? [String: Any] else {
            Issue.record("fixture \(Self.fixture.path) unreadable")
            return
        }
        guard let tok = try Self.variant(spec), let text = TokenizerTestSupport.wikiTestText() else { return }
        let ids = tok.encode(text)
        #expect(ids.count == TokenizerJSON.int(wiki["count"]), "\(name)")
        #expect(TokenizerTestSupport.sha256(ids: ids) == wiki["sha256_int32_le"] as? String, "\(name)")
    }
}
