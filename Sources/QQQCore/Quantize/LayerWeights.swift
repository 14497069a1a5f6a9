import Foundation

/// One decoder layer's weights as fp32 arrays (HF layout W[n][k]), loaded from the mapped checkpoint
/// one layer at a time so memory stays bounded; smoothing edits them in place before GPTQ.
struct LayerWeights {
    var ln1: [Float]
    var ln2: [Float]
    /// q, k, v, o, gate, up, down
    var w: [[Float]]
    var bias: [[Float]?]
    let shapes: [(n: Int, k: Int)]
    static let names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
    static let q = 0, k = 1, v = 2, o = 3, gate = 4, up = 5, down = 6

    init(checkpoint: Checkpoint, config c: ModelConfig, layer: Int) throws {
        let p = "model.layers.\(layer)."
        let h = c.hiddenSize, qd = c.numHeads * c.headDim, kvd = c.numKVHeads * c.headDim, i = c.intermediateSize
        shapes = [(qd, h), (kvd, h), (kvd, h), (h, qd), (i, h), (i, h), (h, i)]
        func load(_ name: String, _ shape: [Int]) throws -> [Float] {
            let t = try checkpoint.tensor(name, shape: shape)
            let values = try t.toFloat32()
            t.dropPages()
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw QQQError.badTensor(path: t.file.path, tensor: name, reason: "non-finite value \(values[bad]) at element \(bad)")
            }
            return values
        }
        ln1 = try load(p + "input_layernorm.weight", [h])
        ln2 = try load(p + "post_attention_layernorm.weight", [h])
        var w: [[Float]] = []
        var bias: [[Float]?] = []
        for (j, name) in Self.names.enumerated() {
            w.append(try load(p + name + ".weight", [shapes[j].n, shapes[j].k]))
            bias.append(c.attentionBias && j < 3 ? try load(p + name + ".bias", [shapes[j].n]) : nil)
        }
        self.w = w
        self.bias = bias
    }
}
