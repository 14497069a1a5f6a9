import Foundation
@testable import QQQCore
import QQQKernels

/// A tiny random LLaMA checkpoint (hidden 64, 2 layers, GQA 4/2 heads) with a byte-level tokenizer of
/// 256 byte tokens and no merges: enough to run the whole CLI end to end in milliseconds, and to break
/// in controlled ways.
enum TinyModelFixture {
    static let hidden = 64, layers = 2, heads = 4, kvHeads = 2, inter = 96, vocab = 256

    static func configJSON(architecture: String = "LlamaForCausalLM", hidden: Int = hidden, inter: Int = inter, kvHeads: Int = kvHeads) -> String {
        """
        {"architectures": ["\(architecture)"], "model_type": "llama", "hidden_size": \(hidden),
         "intermediate_size": \(inter), "num_hidden_layers": \(layers), "num_attention_heads": \(heads),
         "num_key_value_heads": \(kvHeads), "vocab_size": \(vocab), "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "max_position_embeddings": 2048, "tie_word_embeddings": true, "torch_dtype": "float16"}
        """
    }

    /// GPT-2 byte-to-unicode alphabet, so the 256 vocabulary entries are the byte-level symbols.
    static func byteSymbols() -> [String] {
        var bs = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) {
            bs.append(b); cs.append(256 + n); n += 1
        }
        var table = [String](repeating: "", count: 256)
        for (b, c) in zip(bs, cs) { table[b] = String(UnicodeScalar(UInt32(c))!) }
        return table
    }

    static func tokenizerJSON() throws -> Data {
        var vocabMap: [String: Int] = [:]
        for (i, s) in byteSymbols().enumerated() { vocabMap[s] = i }
        let json: [String: Any] = [
            "version": "1.0",
            "added_tokens": [],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocabMap, "merges": []],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    }

    /// Writes the fixture; `mutate` may drop or alter tensors before writing.
    @discardableResult
    static func write(to dir: URL, seed: UInt64 = 1, hidden: Int = hidden, inter: Int = inter, kvHeads: Int = kvHeads, dtype: DType = .f16,
                      mutate: ((inout [(String, [Int])]) -> Void)? = nil, values: ((String, Int) -> Float?)? = nil) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try configJSON(hidden: hidden, inter: inter, kvHeads: kvHeads).write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try tokenizerJSON().write(to: dir.appendingPathComponent("tokenizer.json"))
        var specs: [(String, [Int])] = [("model.embed_tokens.weight", [vocab, hidden]), ("model.norm.weight", [hidden])]
        let hd = hidden / heads
        for i in 0..<layers {
            let p = "model.layers.\(i)."
            specs += [(p + "input_layernorm.weight", [hidden]), (p + "post_attention_layernorm.weight", [hidden]),
                      (p + "self_attn.q_proj.weight", [heads * hd, hidden]), (p + "self_attn.k_proj.weight", [kvHeads * hd, hidden]),
                      (p + "self_attn.v_proj.weight", [kvHeads * hd, hidden]), (p + "self_attn.o_proj.weight", [hidden, heads * hd]),
                      (p + "mlp.gate_proj.weight", [inter, hidden]), (p + "mlp.up_proj.weight", [inter, hidden]),
                      (p + "mlp.down_proj.weight", [hidden, inter])]
        }
        mutate?(&specs)
        var rng = SplitMix64(seed: seed)
        var writer = SafetensorsWriter()
        for (name, shape) in specs {
            let count = shape.reduce(1, *)
            let isNorm = name.hasSuffix("norm.weight")
            let data = (0..<count).map { i in values?(name, i) ?? (isNorm ? 1 + 0.1 * rng.nextSigned() : 0.08 * rng.nextSigned()) }
            if dtype == .i8 {
                try writer.add(name: name, dtype: .i8, shape: shape, bytes: Data(data.map { UInt8(bitPattern: Int8(max(-127, min(127, $0 * 100)))) }))
            } else {
                try writer.add(name: name, floats: data, shape: shape, as: dtype)
            }
        }
        try writer.write(to: dir.appendingPathComponent("model.safetensors").path)
        return dir
    }
}
