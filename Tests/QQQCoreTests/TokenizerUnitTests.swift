import Foundation
import Testing
@testable import QQQCore

/// Small hand-checked cases: pattern splits, BPE merge order, byte fallback, added tokens,
/// post-processing, decoding and error reporting, without the big reference files.
@Suite struct TokenizerUnitTests {
    // Expected pieces computed with Python's `regex` module on the same pattern strings.
    static let patternCases: [(SplitPattern, [(String, [String])])] = [
        (.gpt2, [
            ("Hello  world's 123 !!\n\n x", ["Hello", " ", " world", "'s", " 123", " !!", "\n\n", " x"]),
            ("don't WON'T it'S 'ſ", ["don", "'t", " WON", "'", "T", " it", "'", "S", " '", "ſ"]),
            ("   \n\n  a\t\tb", ["   \n\n ", " a", "\t", "\t", "b"]),
            ("a\r\n\r\n b (c) ..\n\n", ["a", "\r\n\r\n", " b", " (", "c", ")", " ..", "\n\n"]),
            ("12345678 x²Ⅻ", ["12345678", " x", "²Ⅻ"]),
            ("naïve 中文🤖\u{A0}é\u{301} end  ", ["naïve", " 中文", "🤖", "\u{A0}", "é", "\u{301}", " end", "  "]),
        ]),
        (.llama3, [
            ("Hello  world's 123 !!\n\n x", ["Hello", " ", " world", "'s", " ", "123", " !!\n\n", " x"]),
            ("don't WON'T it'S 'ſ", ["don", "'t", " WON", "'T", " it", "'S", " '", "ſ"]),
            ("   \n\n  a\t\tb", ["   \n\n", " ", " a", "\t", "\tb"]),
            ("a\r\n\r\n b (c) ..\n\n", ["a", "\r\n\r\n", " b", " (", "c", ")", " ..\n\n"]),
            ("12345678 x²Ⅻ", ["123", "456", "78", " x", "²Ⅻ"]),
            ("naïve 中文🤖\u{A0}é\u{301} end  ", ["naïve", " 中文", "🤖", "\u{A0}é", "\u{301}", " end", "  "]),
            ("'ſx a'ſ", ["'ſ", "x", " a", "'ſ"]),
        ]),
        (.qwen2, [
            ("Hello  world's 123 !!\n\n x", ["Hello", " ", " world", "'s", " ", "1", "2", "3", " !!\n\n", " x"]),
            ("don't WON'T it'S 'ſ", ["don", "'t", " WON", "'T", " it", "'S", " '", "ſ"]),
            ("   \n\n  a\t\tb", ["   \n\n", " ", " a", "\t", "\tb"]),
            ("a\r\n\r\n b (c) ..\n\n", ["a", "\r\n\r\n", " b", " (", "c", ")", " ..\n\n"]),
            ("12345678 x²Ⅻ", ["1", "2", "3", "4", "5", "6", "7", "8", " x", "²", "Ⅻ"]),
            ("naïve 中文🤖\u{A0}é\u{301} end  ", ["naïve", " 中文", "🤖", "\u{A0}é", "\u{301}", " end", "  "]),
        ]),
    ]

    @Test func splitPatterns() {
        for (pattern, cases) in Self.patternCases {
            for (text, expected) in cases {
                let s = text.unicodeScalars.map { $0.value }
                var ranges: [Range<Int>] = []
                s.withUnsafeBufferPointer { pattern.matches($0, 0, s.count, into: &ranges) }
                let pieces = ranges.map { String(scalarValues: s[$0]) }
                #expect(pieces == expected, "\(pattern) on \(text.debugDescription)")
            }
        }
        #expect(SplitPattern(pattern: SplitPattern.llama3Pattern) == .llama3)
        #expect(SplitPattern(pattern: #"\p{L}+"#) == nil)
    }

    // Byte-level BPE with Digits + ByteLevel pre-tokenizers (SmolLM2's arrangement).
    // "Ġ" is the GPT-2 alphabet's space, "Ċ" its newline.
    static let byteLevelJSON = #"""
    {
      "added_tokens": [{"id": 0, "content": "<|endoftext|>", "special": true, "normalized": false,
                        "lstrip": false, "rstrip": false, "single_word": false}],
      "normalizer": null,
      "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
          {"type": "Digits", "individual_digits": true},
          {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]},
      "post_processor": POST,
      "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
      "model": {"type": "BPE", "dropout": null, "unk_token": null, "fuse_unk": false, "byte_fallback": false,
        "vocab": {"<|endoftext|>": 0, "h": 1, "e": 2, "l": 3, "o": 4, "Ġ": 5, "w": 6, "r": 7, "d": 8,
                  "1": 9, "2": 10, "Ċ": 11, "he": 12, "ll": 13, "hell": 14, "hello": 15, "Ġw": 16,
                  "or": 17, "Ġwor": 18, "ld": 19, "Ġworld": 20, "Ġh": 21, "el": 22},
        "merges": ["l l", "h e", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "Ġ h", "e l"]}
    }
    """#

    static func byteLevel(post: String = "{\"type\": \"ByteLevel\", \"trim_offsets\": false}") throws -> Tokenizer {
        let json = byteLevelJSON.replacingOccurrences(of: "POST", with: post)
        return try Tokenizer(tokenizerJSON: Data(json.utf8), configJSON: nil, path: "fixture/tokenizer.json")
    }

    @Test func byteLevelMerges() throws {
        let tok = try Self.byteLevel()
        // hello: (l,l) rank 0 first, then (h,e), (he,ll), (hell,o). " world" -> Ġworld.
        #expect(tok.encode("hello world") == [15, 20])
        // (e,l) has a worse rank than (h,e): "helo" -> he l o.
        #expect(tok.encode("helo") == [12, 3, 4])
        // Equal ranks merge leftmost first.
        #expect(tok.encode("lll") == [13, 3])
        // Two spaces: the first stands alone (\s+(?!\S)), the second joins the word; the stale
        // (Ġ,h) pair is skipped once h became he.
        #expect(tok.encode("  hello") == [5, 5, 15])
        // Digits one by one; a character missing from the vocab (no unk, no fallback) is dropped.
        #expect(tok.encode("12x") == [9, 10])
        // Added tokens are matched whole before pre-tokenization.
        #expect(tok.encode("hello<|endoftext|>\n") == [15, 0, 11])
        #expect(tok.encode("") == [])
        #expect(tok.decode([15, 20]) == "hello world")
        #expect(tok.decode([15, 0, 11]) == "hello<|endoftext|>\n")
        #expect(tok.decode([15, 0, 11], skipSpecialTokens: true) == "hello\n")
        #expect(tok.vocabSize == 23)
        #expect(tok.tokenId("Ġworld") == 20)
        #expect(tok.tokenId("nope") == nil)
        #expect(tok.bosTokenId == nil && tok.eosTokenId == nil)
    }

    @Test func templatePostProcessor() throws {
        let post = #"""
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
         "pair": [],
         "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]}}}
        """#
        let tok = try Self.byteLevel(post: post)
        #expect(tok.encode("hello") == [0, 15, 0])
        #expect(tok.encode("hello", addSpecialTokens: false) == [15])
        #expect(tok.encode("") == [0, 0])
        #expect(tok.bosTokenId == 0)
    }

    // SentencePiece-style: Metaspace, byte fallback, fused unknowns, "<s>" template.
    static let sentencePieceJSON = #"""
    {
      "added_tokens": [
        {"id": 0, "content": "<unk>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
        {"id": 1, "content": "<s>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false}],
      "normalizer": null,
      "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false},
      "post_processor": {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
      "decoder": {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
      "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
        "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0xC3>": 3, "<0xA9>": 4, "▁": 5, "a": 6, "b": 7,
                  "▁a": 8, "ab": 9, "▁ab": 10},
        "merges": [["▁", "a"], ["a", "b"], ["▁a", "b"]]}
    }
    """#

    @Test func sentencePieceByteFallback() throws {
        let tok = try Tokenizer(tokenizerJSON: Data(Self.sentencePieceJSON.utf8), configJSON: nil, path: "sp/tokenizer.json")
        // "▁ab▁é": (▁,a) before (a,b) by rank, then (▁a,b); é has no piece -> its UTF-8 bytes.
        #expect(tok.encode("ab é") == [1, 10, 5, 3, 4])
        // 中 and 文 have neither pieces nor byte pieces: one fused <unk>.
        #expect(tok.encode("中文") == [1, 5, 0])
        #expect(tok.encode("<s>ab") == [1, 1, 10])
        #expect(tok.decode([1, 10, 5, 3, 4]) == "<s> ab é")
        #expect(tok.decode([1, 10, 5, 3, 4], skipSpecialTokens: true) == "ab é")
        // A lone continuation byte is not UTF-8: one replacement character per byte.
        #expect(tok.decode([4], skipSpecialTokens: true) == "\u{FFFD}")
        #expect(tok.bosTokenId == 1)
    }

    @Test func loadErrors() throws {
        let missing = "/nonexistent-qqq-dir"
        #expect(throws: QQQError.badFile(path: missing + "/tokenizer.json", reason: "missing")) {
            try Tokenizer.load(directory: missing)
        }
        #expect(throws: QQQError.badFile(path: "x/tokenizer.json", reason: "not valid JSON")) {
            try Tokenizer(tokenizerJSON: Data("{\"model\": ".utf8), configJSON: nil, path: "x/tokenizer.json")
        }
        #expect(throws: QQQError.badFile(path: "x/tokenizer.json", reason: "no 'model' object")) {
            try Tokenizer(tokenizerJSON: Data("{}".utf8), configJSON: nil, path: "x/tokenizer.json")
        }
        let wordPiece = Self.byteLevelJSON.replacingOccurrences(of: "POST", with: "null")
            .replacingOccurrences(of: "\"type\": \"BPE\"", with: "\"type\": \"WordPiece\"")
        #expect(throws: QQQError.unsupported("x/tokenizer.json: model type WordPiece")) {
            try Tokenizer(tokenizerJSON: Data(wordPiece.utf8), configJSON: nil, path: "x/tokenizer.json")
        }
        let unknownRegex = Self.byteLevelJSON.replacingOccurrences(of: "POST", with: "null")
            .replacingOccurrences(of: #"{"type": "Digits", "individual_digits": true}"#,
                                  with: #"{"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Isolated", "invert": false}"#)
        #expect(throws: QQQError.unsupported(#"x/tokenizer.json: Split pre-tokenizer regex \d+"#)) {
            try Tokenizer(tokenizerJSON: Data(unknownRegex.utf8), configJSON: nil, path: "x/tokenizer.json")
        }
        let badMerge = Self.byteLevelJSON.replacingOccurrences(of: "POST", with: "null")
            .replacingOccurrences(of: "\"e l\"]", with: "\"e x\"]")
        #expect(throws: QQQError.badFile(path: "x/tokenizer.json", reason: "merge 10 'e x' uses a token not in the vocab")) {
            try Tokenizer(tokenizerJSON: Data(badMerge.utf8), configJSON: nil, path: "x/tokenizer.json")
        }
        // A folder whose tokenizer.json is not JSON: the error names the file.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qqq-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("not json".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        do {
            _ = try Tokenizer.load(directory: dir.path)
            Issue.record("expected an error")
        } catch let e as QQQError {
            #expect(e.description == "\(dir.path)/tokenizer.json: not valid JSON")
        }
    }

    @Test func evalTextRows() {
        #expect(EvalText.joinRows(" \n = A = \n \nText\n") == "\n\n = A = \n\n\n\n\nText\n")
        #expect(EvalText.joinRows("") == "")
        #expect(EvalText.joinRows("a\n\t \nb") == "a\n\n\n\n\nb")
        guard let text = TokenizerTestSupport.wikiTestText() else { return }
        #expect(text.unicodeScalars.count == 1_294_336)
        #expect(TokenizerTestSupport.sha256(Array(text.utf8))
                == "696cca6b65a171b0a358a4be6732cdfdf2dd6164a32e20fd70e3c13fc4dfae83")
    }

    @Test func sha256KnownAnswers() {
        #expect(TokenizerTestSupport.sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(TokenizerTestSupport.sha256(Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
