import QQQKernels

/// One LLaMA/Mistral/Qwen2 decoder block: pre-norm attention and pre-norm SwiGLU MLP, each with a
/// residual connection.
public final class DecoderLayer {
    public let index: Int
    public var inputNorm: [Float]
    public var postAttentionNorm: [Float]
    public var q: LinearOperator
    public var k: LinearOperator
    public var v: LinearOperator
    public var o: LinearOperator
    public var gate: LinearOperator
    public var up: LinearOperator
    public var down: LinearOperator

    init(index: Int, inputNorm: [Float], postAttentionNorm: [Float], q: LinearOperator, k: LinearOperator,
         v: LinearOperator, o: LinearOperator, gate: LinearOperator, up: LinearOperator, down: LinearOperator) {
        self.index = index
        self.inputNorm = inputNorm
        self.postAttentionNorm = postAttentionNorm
        self.q = q; self.k = k; self.v = v; self.o = o
        self.gate = gate; self.up = up; self.down = down
    }

    /// The seven linears by their Hugging Face names (`self_attn.q_proj`, ...).
    public var linears: [(name: String, op: LinearOperator)] {
        [("self_attn.q_proj", q), ("self_attn.k_proj", k), ("self_attn.v_proj", v), ("self_attn.o_proj", o),
         ("mlp.gate_proj", gate), ("mlp.up_proj", up), ("mlp.down_proj", down)]
    }

    /// x ← x + Attn(norm(x)); x ← x + MLP(norm(x)) for `tokens` rows held in `buffers`.
    func forward(_ buf: ForwardBuffers, tokens: Int, model: LlamaModel, threads: Int) throws {
        let c = model.config
        let hidden = c.hiddenSize
        let qDim = c.numHeads * c.headDim
        let kvDim = c.numKVHeads * c.headDim
        let timer = StageTimer.shared
        timer.measure("norms+rope+residual") {
            RMSNormRows.apply(buf.x, rows: tokens, ld: hidden, weight: inputNorm, eps: c.rmsNormEps, out: buf.h, threads: threads)
        }
        try timer.measure("linear q/k/v") {
            try q.apply(buf.h, rows: tokens, ldx: hidden, into: buf.q, ldy: qDim, threads: threads)
            try k.apply(buf.h, rows: tokens, ldx: hidden, into: buf.k, ldy: kvDim, threads: threads)
            try v.apply(buf.h, rows: tokens, ldx: hidden, into: buf.v, ldy: kvDim, threads: threads)
        }
        timer.measure("norms+rope+residual") {
            model.rope.apply(buf.q, rows: tokens, ld: qDim, heads: c.numHeads, threads: threads)
            model.rope.apply(buf.k, rows: tokens, ld: kvDim, heads: c.numKVHeads, threads: threads)
        }
        timer.measure("attention") {
            model.attention.run(q: buf.q, ldq: qDim, k: buf.k, v: buf.v, ldkv: kvDim,
                                out: buf.attn, ldo: qDim, tokens: tokens, threads: threads)
        }
        try timer.measure("linear o") {
            try o.apply(buf.attn, rows: tokens, ldx: qDim, into: buf.h, ldy: hidden, threads: threads)
        }
        let inter = c.intermediateSize
        timer.measure("norms+rope+residual") {
            addInPlace(buf.x, buf.h, count: tokens * hidden, threads: threads)
            RMSNormRows.apply(buf.x, rows: tokens, ld: hidden, weight: postAttentionNorm, eps: c.rmsNormEps, out: buf.h, threads: threads)
        }
        try timer.measure("linear gate/up") {
            try gate.apply(buf.h, rows: tokens, ldx: hidden, into: buf.gate, ldy: inter, threads: threads)
            try up.apply(buf.h, rows: tokens, ldx: hidden, into: buf.up, ldy: inter, threads: threads)
        }
        let gateP = buf.gate, upP = buf.up
        timer.measure("silu*up") {
            parallelRanges(tokens, threads: threads, minPerThread: 16) { rows in
                for r in rows {
                    VectorOps.siluMul(gate: gateP + r * inter, up: upP + r * inter, out: gateP + r * inter, count: inter)
                }
            }
        }
        try timer.measure("linear down") {
            try down.apply(buf.gate, rows: tokens, ldx: inter, into: buf.h, ldy: hidden, threads: threads)
        }
        timer.measure("norms+rope+residual") { addInPlace(buf.x, buf.h, count: tokens * hidden, threads: threads) }
    }
}

/// x += y elementwise.
func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int, threads: Int = 1) {
    parallelElements(count, threads: threads) { off, n in
        for i in off..<(off + n) { x[i] += y[i] }
    }
}

/// RMSNorm of many rows (HF LlamaRMSNorm: fp32 variance, x·rsqrt(var+eps), then ·weight).
enum RMSNormRows {
    static func apply(_ x: UnsafePointer<Float>, rows: Int, ld: Int, weight: [Float], eps: Float,
                      out: UnsafeMutablePointer<Float>, threads: Int) {
        weight.withUnsafeBufferPointer { w in
            let wp = UnsafeRawPointer(w.baseAddress!)
            parallelRanges(rows, threads: threads, minPerThread: 32) { range in
                for r in range {
                    VectorOps.rmsNorm(x: x + r * ld, weight: wp, weightType: .f32, out: out + r * ld,
                                      count: w.count, eps: eps)
                }
            }
        }
    }
}
