import Foundation
import QQQKernels

/// Builds the linear operator for one decoder linear (`prefix` is e.g. `model.layers.3.self_attn.q_proj`).
/// The default reads a dense `.weight`; a quantized checkpoint supplies a W4A8 factory.
public typealias LinearFactory = (_ prefix: String, _ inFeatures: Int, _ outFeatures: Int, _ hasBias: Bool) throws -> LinearOperator

/// A LLaMA-family causal LM (LLaMA-2/3, SmolLM2, Mistral, Qwen2) evaluated on the CPU in fp32
/// arithmetic over weights that stay in their stored dtype in the mapped checkpoint.
public final class LlamaModel {
    public let config: ModelConfig
    public let checkpoint: Checkpoint
    public let layers: [DecoderLayer]
    let embedding: Tensor
    let finalNorm: [Float]
    let lmHead: DenseLinear
    let rope: RotaryEmbedding
    let attention: CausalAttention
    private var buffers: ForwardBuffers?
    private var logitChunk: UnsafeMutablePointer<Float>?
    private let logitRows = 256

    /// Loads the model from a checkpoint folder; `linearFactory` overrides how decoder linears are built.
    public init(config: ModelConfig, checkpoint: Checkpoint, linearFactory: LinearFactory? = nil) throws {
        self.config = config
        self.checkpoint = checkpoint
        let c = config
        let h = c.hiddenSize
        embedding = try checkpoint.tensor("model.embed_tokens.weight", shape: [c.vocabSize, h])
        finalNorm = try checkpoint.tensor("model.norm.weight", shape: [h]).toFloat32()
        if c.tieWordEmbeddings || !checkpoint.contains("lm_head.weight") {
            guard c.tieWordEmbeddings else {
                throw QQQError.badTensor(path: checkpoint.directory, tensor: "lm_head.weight",
                                         reason: "missing (and tie_word_embeddings is false)")
            }
            lmHead = try DenseLinear(weight: embedding)
        } else {
            lmHead = try DenseLinear(weight: checkpoint.tensor("lm_head.weight", shape: [c.vocabSize, h]))
        }
        let factory = linearFactory ?? LlamaModel.denseFactory(checkpoint)
        let qDim = c.numHeads * c.headDim, kvDim = c.numKVHeads * c.headDim
        var layers: [DecoderLayer] = []
        for i in 0..<c.numLayers {
            let p = "model.layers.\(i)."
            let bias = c.attentionBias
            layers.append(DecoderLayer(
                index: i,
                inputNorm: try checkpoint.tensor(p + "input_layernorm.weight", shape: [h]).toFloat32(),
                postAttentionNorm: try checkpoint.tensor(p + "post_attention_layernorm.weight", shape: [h]).toFloat32(),
                q: try factory(p + "self_attn.q_proj", h, qDim, bias),
                k: try factory(p + "self_attn.k_proj", h, kvDim, bias),
                v: try factory(p + "self_attn.v_proj", h, kvDim, bias),
                o: try factory(p + "self_attn.o_proj", qDim, h, false),
                gate: try factory(p + "mlp.gate_proj", h, c.intermediateSize, false),
                up: try factory(p + "mlp.up_proj", h, c.intermediateSize, false),
                down: try factory(p + "mlp.down_proj", c.intermediateSize, h, false)))
        }
        self.layers = layers
        rope = RotaryEmbedding(config: c)
        attention = CausalAttention(heads: c.numHeads, kvHeads: c.numKVHeads, headDim: c.headDim)
    }

    deinit { logitChunk?.deallocate() }

    /// Dense linears read from `<prefix>.weight` (and `<prefix>.bias` when the architecture has one).
    public static func denseFactory(_ checkpoint: Checkpoint) -> LinearFactory {
        return { prefix, inF, outF, hasBias in
            let weight = try checkpoint.tensor(prefix + ".weight", shape: [outF, inF])
            let bias = hasBias ? try checkpoint.tensor(prefix + ".bias", shape: [outF]).toFloat32() : nil
            return try DenseLinear(weight: weight, bias: bias)
        }
    }

    /// Bytes of activation buffers for a window of `tokens` (for memory reports).
    public func activationBytes(tokens: Int) -> Int {
        ForwardBuffers(config: config, capacity: 1).bytes * tokens + logitRows * config.vocabSize * 4
    }

    private func prepare(tokens: Int) -> ForwardBuffers {
        if let b = buffers, b.capacity >= tokens { return b }
        let b = ForwardBuffers(config: config, capacity: tokens)
        buffers = b
        return b
    }

    /// Runs the decoder over `tokens` and leaves the final-normed hidden states in `buffers.h`.
    func hiddenStates(_ tokens: UnsafeBufferPointer<Int32>, threads: Int,
                      afterLayer: ((Int) -> Void)? = nil) throws -> ForwardBuffers {
        let t = tokens.count
        let buf = prepare(tokens: t)
        try embed(tokens, into: buf.x)
        for layer in layers {
            try layer.forward(buf, tokens: t, model: self, threads: threads)
            afterLayer?(layer.index)
        }
        RMSNormRows.apply(buf.x, rows: t, ld: config.hiddenSize, weight: finalNorm, eps: config.rmsNormEps,
                          out: buf.h, threads: threads)
        return buf
    }

    /// Embedding rows for the token ids (ids outside the vocabulary are an error, not a crash).
    func embed(_ tokens: UnsafeBufferPointer<Int32>, into x: UnsafeMutablePointer<Float>) throws {
        let h = config.hiddenSize
        for (t, id) in tokens.enumerated() {
            guard id >= 0, Int(id) < config.vocabSize else {
                throw QQQError.invalidInput("token id \(id) at position \(t) is outside the vocabulary (size \(config.vocabSize))")
            }
            try embedding.copyFloat32(into: x + t * h, elementOffset: Int(id) * h, count: h)
        }
    }

    /// Mean negative log-likelihood of tokens[1...] given their prefixes (the perplexity protocol's
    /// per-window loss). Logits are computed `logitRows` rows at a time: never a T×vocab matrix.
    public func meanNLL(_ tokens: UnsafeBufferPointer<Int32>, threads: Int) throws -> Double {
        let t = tokens.count
        guard t >= 2 else { throw QQQError.invalidInput("a window needs at least 2 tokens, got \(t)") }
        let buf = try hiddenStates(tokens, threads: threads)
        let vocab = config.vocabSize, hidden = config.hiddenSize
        if logitChunk == nil { logitChunk = .allocate(capacity: logitRows * vocab) }
        let logits = logitChunk!
        var total = 0.0
        var r0 = 0
        var partial = [Double](repeating: 0, count: logitRows)
        while r0 < t - 1 {
            let rows = min(logitRows, t - 1 - r0)
            try StageTimer.shared.measure("lm_head") {
                try lmHead.apply(buf.h + r0 * hidden, rows: rows, ldx: hidden, into: logits, ldy: vocab, threads: threads)
            }
            StageTimer.shared.measure("log-softmax") { partial.withUnsafeMutableBufferPointer { part in
                parallelRanges(rows, threads: threads, minPerThread: 8) { range in
                    for r in range {
                        let row = logits + r * vocab
                        let target = Int(tokens[r0 + r + 1])
                        part[r] = Double(VectorOps.logSumExp(row, count: vocab)) - Double(row[target])
                    }
                }
            } }
            for r in 0..<rows { total += partial[r] }
            r0 += rows
        }
        return total / Double(t - 1)
    }

    /// Full logits [T][vocab] for a short prompt (tests and debugging; O(T·vocab) memory).
    public func logits(_ tokens: [Int32], threads: Int) throws -> [Float] {
        let t = tokens.count
        guard t >= 1 else { return [] }
        let buf = try tokens.withUnsafeBufferPointer { try hiddenStates($0, threads: threads) }
        var out = [Float](repeating: 0, count: t * config.vocabSize)
        try out.withUnsafeMutableBufferPointer { o in
            try lmHead.apply(buf.h, rows: t, ldx: config.hiddenSize, into: o.baseAddress!, ldy: config.vocabSize, threads: threads)
        }
        return out
    }
}
