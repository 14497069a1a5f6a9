import Foundation
import Testing
@testable import QQQCore

/// Token ids against Hugging Face `tokenizers` (../shared/reference): the whole WikiText-2 test text
/// (count and SHA-256 of the ids) and awkward strings, for byte-level BPE (SmolLM2) and both
/// tokenizer.json forms of a SentencePiece BPE with byte fallback (Mistral-7B / LLaMA-2 style).
@Suite("Tokenizers vs Hugging Face tokenizers", .serialized)
struct TokenizerReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var shared: URL {
        ProcessInfo.processInfo.environment["QQQ_SHARED_DIR"].map { URL(fileURLWithPath: $0) } ?? root.deletingLastPathComponent().appendingPathComponent("shared")
    }
    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: shared.appendingPathComponent(path))) as! [String: Any]
    }
    static func testText() throws -> String {
        EvalText.joinRows(try String(contentsOf: shared.appendingPathComponent("data/wikitext-2-raw/wiki.test.raw"), encoding: .utf8))
    }

    @Test func sha256OfKnownInput() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func evalTextRowsRule() throws {
        #expect(EvalText.joinRows(" \n = A = \n text\n") == "\n\n = A = \n\n\n text\n")
        let text = try Self.testText()
        #expect(text.unicodeScalars.count == 1_294_336)
        #expect(SHA256.hex(Array(text.utf8)) == "696cca6b65a171b0a358a4be6732cdfdf2dd6164a32e20fd70e3c13fc4dfae83")
    }

    @Test func smolLM2ByteLevel() throws {
        let dir = ProcessInfo.processInfo.environment["QQQ_MODEL_DIR"] ?? Self.root.appendingPathComponent("models/SmolLM2-135M-Instruct").path
        guard FileManager.default.fileExists(atPath: dir + "/tokenizer.json") else { print("skipped: demo model absent"); return }
        let tok = try Tokenizer.load(directory: dir)
        let ref = try Self.json("reference/smollm2-135m-tokens.json")
        for case let s as [String: Any] in ref["strings"] as! [Any] {
            let text = s["text"] as! String
            #expect(tok.encode(text) == (s["ids"] as! [Int]).map(Int32.init), "\(text.debugDescription)")
        }
        let clock = Date()
        let ids = tok.encode(try Self.testText())
        print("SmolLM2 tokenizer: \(ids.count) ids for WikiText-2 test in \(String(format: "%.2f", Date().timeIntervalSince(clock))) s")
        let want = ref["wikitext2_test"] as! [String: Any]
        #expect(ids.count == want["count"] as! Int)
        #expect(SHA256.hex(ids: ids) == want["sha256_of_ids_as_int32_le"] as! String)
        #expect(tok.decode(Array(ids.prefix(200))) == String(try Self.testText().prefix(tok.decode(Array(ids.prefix(200))).count)))
    }

    @Test(arguments: ["metaspace", "normalizer"])
    func sentencePieceBPE(variant: String) throws {
        let ref = try Self.json("reference/sentencepiece-bpe/sentencepiece-bpe-tokens.json")
        let v = (ref["variants"] as! [String: Any])[variant] as! [String: Any]
        let path = Self.shared.appendingPathComponent("reference/sentencepiece-bpe/\(v["file"] as! String)")
        let tok = try Tokenizer(tokenizerJSON: Data(contentsOf: path), configJSON: nil, path: path.path)
        for case let s as [String: Any] in v["strings"] as! [Any] {
            let text = s["text"] as! String
            #expect(tok.encode(text) == (s["ids"] as! [Int]).map(Int32.init), "\(variant): \(text.debugDescription)")
        }
        let text = try Self.testText()
        let clock = Date()
        let ids = tok.encode(text)
        print("SentencePiece (\(variant)): \(ids.count) ids for WikiText-2 test in \(String(format: "%.2f", Date().timeIntervalSince(clock))) s")
        let want = v["wikitext2_test"] as! [String: Any]
        #expect(ids.count == want["count"] as! Int)
        #expect(SHA256.hex(ids: ids) == want["sha256_int32_le"] as! String)
        #expect(tok.decode([1, 22557, 1526]) == "<s> Hello world")  // as HF: Strip removes a leading space only
        #expect(tok.decode([22557, 1526]) == "Hello world")
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
