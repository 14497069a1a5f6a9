import Foundation
import Testing
@testable import QQQCore

@Suite("Model config")
struct ConfigTests {
    static let smolLM2 = #"""
    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
     "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "head_dim": 64, "hidden_act": "silu",
     "max_position_embeddings": 8192, "rms_norm_eps": 9.999999747378752e-06, "rope_theta": 100000.0, "rope_scaling": null,
     "attention_bias": false, "mlp_bias": false, "vocab_size": 49152, "tie_word_embeddings": true,
     "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2, "torch_dtype": "float16"}
    """#

    static let llama31 = #"""
    {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
     "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336,
     "max_position_embeddings": 131072, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
     "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
     "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192, "rope_type": "llama3"},
     "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 128256}
    """#

    static let qwen2 = #"""
    {"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151645, "hidden_act": "silu",
     "hidden_size": 896, "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
     "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
     "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
     "torch_dtype": "bfloat16", "use_sliding_window": false, "vocab_size": 151936}
    """#

    static let mistral = #"""
    {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
     "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
     "sliding_window": 4096, "vocab_size": 32000, "max_position_embeddings": 32768, "torch_dtype": "bfloat16"}
    """#

    private func parse(_ json: String) throws -> ModelConfig {
        try ModelConfig(json: Data(json.utf8), path: "/m/config.json")
    }

    /// `json` with top-level keys replaced (nil removes the key).
    private func edit(_ json: String, _ changes: [String: Any?]) throws -> String {
        var o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        for (k, v) in changes { o[k] = v ?? nil }
        return String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self)
    }

    @Test func smolLM2Config() throws {
        let c = try parse(Self.smolLM2)
        #expect(c.architecture == .llama)
        #expect(c.hiddenSize == 576 && c.intermediateSize == 1536 && c.numLayers == 30)
        #expect(c.numHeads == 9 && c.numKVHeads == 3 && c.headDim == 64 && c.headsPerKVHead == 3)
        #expect(c.vocabSize == 49152 && c.maxPositionEmbeddings == 8192)
        #expect(c.rmsNormEps == Float(1e-5))
        #expect(c.ropeTheta == 100000 && c.ropeScaling == nil)
        #expect(c.tieWordEmbeddings && !c.attentionBias && !c.mlpBias && c.slidingWindow == nil)
        #expect(c.bosTokenId == 1 && c.eosTokenId == 2 && c.eosTokenIds == [2])
        #expect(c.torchDtype == "float16" && c.quantization == nil)
        #expect(c.rawJSON == Data(Self.smolLM2.utf8) && c.path == "/m/config.json")
        let inv = c.ropeInverseFrequencies()
        #expect(inv.count == 32)
        for i in 0..<32 {
            #expect(inv[i] == Float(1 / pow(100000.0, Double(2 * i) / 64)))
        }
        #expect(inv[0] == 1 && abs(inv[31] - 1.4330125e-5) < 1e-10)
    }

    @Test func defaultsWhenKeysAbsent() throws {
        let c = try parse(edit(Self.smolLM2, ["head_dim": nil, "num_key_value_heads": nil, "rope_theta": nil,
                                              "rms_norm_eps": nil, "max_position_embeddings": nil,
                                              "tie_word_embeddings": nil, "architectures": nil]))
        #expect(c.architecture == .llama)   // from model_type
        #expect(c.headDim == 64 && c.numKVHeads == 9)
        #expect(c.ropeTheta == 10000 && c.rmsNormEps == Float(1e-6) && c.maxPositionEmbeddings == 2048)
        #expect(!c.tieWordEmbeddings)
    }

    /// transformers' `_compute_llama3_parameters`, written out as it is there (vector form).
    private func hfLlama3(theta: Double, dim: Int, factor: Double, low: Double, high: Double, original: Double) -> [Double] {
        let invFreq = stride(from: 0, to: dim, by: 2).map { 1.0 / pow(theta, Double($0) / Double(dim)) }
        let lowFreqWavelen = original / low
        let highFreqWavelen = original / high
        let wavelen = invFreq.map { 2 * Double.pi / $0 }
        let invFreqLlama = zip(wavelen, invFreq).map { $0 > lowFreqWavelen ? $1 / factor : $1 }
        let smoothFactor = wavelen.map { (original / $0 - low) / (high - low) }
        let smoothed = zip(smoothFactor, invFreqLlama).map { (1 - $0) * $1 / factor + $0 * $1 }
        let isMedium = wavelen.map { !($0 < highFreqWavelen) && !($0 > lowFreqWavelen) }
        return (0..<invFreq.count).map { isMedium[$0] ? smoothed[$0] : invFreqLlama[$0] }
    }

    @Test func llama3RopeScaling() throws {
        let c = try parse(Self.llama31)
        #expect(c.headDim == 128 && c.numKVHeads == 8)
        #expect(c.eosTokenIds == [128001, 128008, 128009] && c.eosTokenId == 128001)
        let s = try #require(c.ropeScaling)
        #expect(s.kind == .llama3 && s.factor == 8 && s.lowFreqFactor == 1 && s.highFreqFactor == 4)
        #expect(s.originalMaxPositionEmbeddings == 8192)
        let inv = c.ropeInverseFrequencies()
        let ref = hfLlama3(theta: 500000, dim: 128, factor: 8, low: 1, high: 4, original: 8192)
        #expect(inv.count == 64)
        for i in 0..<64 { #expect(inv[i] == Float(ref[i]), "i=\(i)") }
        // Independent of the formula: wavelengths under 2048 keep their frequency (i <= 28),
        // over 8192 are divided by 8 (i >= 35), the six between are strictly in between.
        for i in 0..<64 {
            let plain = 1 / pow(500000.0, Double(2 * i) / 128)
            let ratio = Double(inv[i]) / plain
            if i <= 28 { #expect(abs(ratio - 1) < 1e-6, "i=\(i)") }
            else if i >= 35 { #expect(abs(ratio - 0.125) < 1e-6, "i=\(i)") }
            else { #expect(ratio > 0.125 && ratio < 1, "i=\(i)") }
        }
    }

    @Test func linearAndUnsupportedRopeScaling() throws {
        let lin = try parse(edit(Self.smolLM2, ["rope_scaling": ["type": "linear", "factor": 4.0]]))
        let plain = try parse(Self.smolLM2).ropeInverseFrequencies()
        #expect(lin.ropeScaling?.kind == .linear)
        #expect(zip(lin.ropeInverseFrequencies(), plain).allSatisfy { $0 == Float(Double($1) / 4) || abs($0 - $1 / 4) <= $0.ulp })
        let dflt = try parse(edit(Self.smolLM2, ["rope_scaling": ["rope_type": "default"]]))
        #expect(dflt.ropeScaling == nil)
        expectQQQError("unsupported", "'yarn'", "/m/config.json", "llama3") {
            _ = try parse(edit(Self.smolLM2, ["rope_scaling": ["rope_type": "yarn", "factor": 4.0]]))
        }
        expectQQQError("/m/config.json", "low_freq_factor") {
            _ = try parse(edit(Self.smolLM2, ["rope_scaling": ["rope_type": "llama3", "factor": 8.0]]))
        }
        expectQQQError("/m/config.json", "factor") {
            _ = try parse(edit(Self.smolLM2, ["rope_scaling": ["type": "linear", "factor": -1]]))
        }
    }

    @Test func ropeParametersFormat() throws {
        // transformers 5 style: theta and type inside rope_parameters.
        let c = try parse(edit(Self.smolLM2, ["rope_theta": nil, "rope_scaling": nil,
                                              "rope_parameters": ["rope_type": "default", "rope_theta": 50000.0]]))
        #expect(c.ropeTheta == 50000 && c.ropeScaling == nil)
        let l = try parse(edit(Self.llama31, ["rope_theta": nil, "rope_scaling": nil,
            "rope_parameters": ["rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192]]))
        #expect(l.ropeTheta == 500000 && l.ropeScaling?.kind == .llama3)
        #expect(l.ropeInverseFrequencies() == (try parse(Self.llama31)).ropeInverseFrequencies())
    }

    @Test func qwen2AndMistral() throws {
        let q = try parse(Self.qwen2)
        #expect(q.architecture == .qwen2 && q.attentionBias && q.tieWordEmbeddings)
        #expect(q.slidingWindow == nil)   // use_sliding_window false
        #expect(q.headDim == 64 && q.numKVHeads == 2 && q.ropeTheta == 1_000_000)
        #expect(q.eosTokenId == 151645 && q.bosTokenId == 151643)
        let qs = try parse(edit(Self.qwen2, ["use_sliding_window": true]))
        #expect(qs.slidingWindow == 32768)
        let m = try parse(Self.mistral)
        #expect(m.architecture == .mistral && !m.attentionBias && m.slidingWindow == 4096)
        #expect(m.headDim == 128 && !m.tieWordEmbeddings && m.bosTokenId == nil && m.eosTokenIds.isEmpty)
        let mNull = try parse(edit(Self.mistral, ["sliding_window": NSNull()]))
        #expect(mNull.slidingWindow == nil)
    }

    @Test func quantizationConfig() throws {
        let c = try parse(edit(Self.smolLM2, ["quantization_config": ["quant_method": "qqq", "wbits": 4, "group_size": 128, "extra": ["a": 1]]]))
        let q = try #require(c.quantization)
        #expect(q.quantMethod == "qqq" && q.wbits == 4 && q.groupSize == 128)
        #expect((q.object()["extra"] as? [String: Any])?["a"] as? Int == 1)
        let g = try parse(edit(Self.smolLM2, ["quantization_config": ["quant_method": "gptq", "bits": 4, "group_size": -1]]))
        #expect(g.quantization?.wbits == 4 && g.quantization?.groupSize == -1)
        expectQQQError("/m/config.json", "quant_method") {
            _ = try parse(edit(Self.smolLM2, ["quantization_config": ["bits": 4]]))
        }
    }

    @Test func rejectsBadConfigs() throws {
        expectQQQError("unsupported", "architecture 'GPT2LMHeadModel'", "/m/config.json", "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM") {
            _ = try parse(edit(Self.smolLM2, ["architectures": ["GPT2LMHeadModel"]]))
        }
        expectQQQError("model_type 'gpt2'") {
            _ = try parse(edit(Self.smolLM2, ["architectures": nil, "model_type": "gpt2"]))
        }
        expectQQQError("/m/config.json", "missing 'architectures'") {
            _ = try parse(edit(Self.smolLM2, ["architectures": nil, "model_type": nil]))
        }
        for key in ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size"] {
            expectQQQError("/m/config.json", "missing '\(key)'") { _ = try parse(edit(Self.smolLM2, [key: nil])) }
        }
        expectQQQError("'hidden_size'", "\"576\"", "positive integer") { _ = try parse(edit(Self.smolLM2, ["hidden_size": "576"])) }
        expectQQQError("'vocab_size'", "positive integer") { _ = try parse(edit(Self.smolLM2, ["vocab_size": 0])) }
        expectQQQError("'num_hidden_layers'", "positive integer") { _ = try parse(edit(Self.smolLM2, ["num_hidden_layers": 2.5])) }
        expectQQQError("num_attention_heads (9)", "num_key_value_heads (4)") {
            _ = try parse(edit(Self.smolLM2, ["num_key_value_heads": 4]))
        }
        expectQQQError("hidden_size (577)", "num_attention_heads (9)") {
            _ = try parse(edit(Self.smolLM2, ["hidden_size": 577, "head_dim": nil]))
        }
        expectQQQError("head_dim (63)", "even") { _ = try parse(edit(Self.smolLM2, ["head_dim": 63])) }
        expectQQQError("'tie_word_embeddings'", "true or false") { _ = try parse(edit(Self.smolLM2, ["tie_word_embeddings": 1])) }
        expectQQQError("hidden_act 'gelu'") { _ = try parse(edit(Self.smolLM2, ["hidden_act": "gelu"])) }
        expectQQQError("rms_norm_eps") { _ = try parse(edit(Self.smolLM2, ["rms_norm_eps": 0])) }
        expectQQQError("/m/config.json", "not valid JSON") { _ = try parse("{oops") }
        expectQQQError("/m/config.json", "not a JSON object") { _ = try parse("[1]") }
    }

    @Test func loadFromDirectory() throws {
        try withTempDirectory { dir in
            expectQQQError("\(dir)/config.json", "missing") { _ = try ModelConfig.load(directory: dir) }
            try writeFile(dir, "config.json", Data(Self.qwen2.utf8))
            let c = try ModelConfig.load(directory: dir)
            #expect(c.architecture == .qwen2 && c.path == "\(dir)/config.json")
        }
    }
}
