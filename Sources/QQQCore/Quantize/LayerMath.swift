import Foundation
import QQQKernels

/// The pieces of one decoder layer's forward pass over fp32 weight arrays, for calibration:
/// RMSNorm, linears, RoPE + causal GQA attention, SwiGLU. One window (seqlen tokens) at a time.
final class LayerMath {
    let config: ModelConfig
    let threads: Int
    let rope: RotaryEmbedding
    let attention: CausalAttention
    let tokens: Int
    // per-window scratch
    private(set) var q: [Float]
    private(set) var k: [Float]
    private(set) var v: [Float]

    var qDim: Int { config.numHeads * config.headDim }
    var kvDim: Int { config.numKVHeads * config.headDim }

    init(config: ModelConfig, tokens: Int, threads: Int) {
        self.config = config
        self.tokens = tokens
        self.threads = threads
        rope = RotaryEmbedding(config: config)
        attention = CausalAttention(heads: config.numHeads, kvHeads: config.numKVHeads, headDim: config.headDim)
        q = [Float](repeating: 0, count: tokens * config.numHeads * config.headDim)
        k = [Float](repeating: 0, count: tokens * config.numKVHeads * config.headDim)
        v = k
    }

    func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], out: UnsafeMutablePointer<Float>) {
        RMSNormRows.apply(x, rows: tokens, ld: config.hiddenSize, weight: weight, eps: config.rmsNormEps, out: out, threads: threads)
    }

    /// y[T][n] = x[T][k] · Wᵀ (+ bias)
    func linear(_ x: UnsafePointer<Float>, _ w: [Float], n: Int, k: Int, bias: [Float]? = nil, out: UnsafeMutablePointer<Float>) {
        w.withUnsafeBytes { wb in
            Gemm.sgemm(m: tokens, n: n, k: k, a: x, lda: k, b: wb.baseAddress!, ldb: k, bType: .f32, bLayout: .nk,
                       c: out, ldc: n, threads: threads)
        }
        if let bias { addBias(bias, to: out, rows: tokens, ldy: n, count: n) }
    }

    /// Attention output (input of o_proj) of a normed window xn [T][hidden] with the given q/k/v weights.
    func attention(_ xn: UnsafePointer<Float>, wq: [Float], wk: [Float], wv: [Float], bias: [[Float]?],
                   out: UnsafeMutablePointer<Float>) {
        let h = config.hiddenSize
        let (qd, kvd) = (qDim, kvDim)
        attention(bias: bias, out: out) { q, k, v in
            linear(xn, wq, n: qd, k: h, out: q)
            linear(xn, wk, n: kvd, k: h, out: k)
            linear(xn, wv, n: kvd, k: h, out: v)
        }
    }

    /// Attention output from projections that `project` writes into q [T][qDim], k and v [T][kvDim]
    /// (without bias): bias, RoPE, causal GQA attention.
    func attention(bias: [[Float]?], out: UnsafeMutablePointer<Float>,
                   project: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        let (qd, kvd) = (qDim, kvDim)
        try q.withUnsafeMutableBufferPointer { qb in
            try k.withUnsafeMutableBufferPointer { kb in
                try v.withUnsafeMutableBufferPointer { vb in
                    try project(qb.baseAddress!, kb.baseAddress!, vb.baseAddress!)
                    for (i, (p, n)) in [(qb.baseAddress!, qd), (kb.baseAddress!, kvd), (vb.baseAddress!, kvd)].enumerated() {
                        if let b = bias[i] { addBias(b, to: p, rows: tokens, ldy: n, count: n) }
                    }
                    rope.apply(qb.baseAddress!, rows: tokens, ld: qd, heads: config.numHeads, threads: threads)
                    rope.apply(kb.baseAddress!, rows: tokens, ld: kvd, heads: config.numKVHeads, threads: threads)
                    attention.run(q: qb.baseAddress!, ldq: qd, k: kb.baseAddress!, v: vb.baseAddress!, ldkv: kvd,
                                  out: out, ldo: qd, tokens: tokens, threads: threads)
                }
            }
        }
    }

    /// out = silu(x·Wgᵀ) ⊙ (x·Wuᵀ); `up` is scratch of T × intermediate.
    func swiglu(_ xn: UnsafePointer<Float>, wg: [Float], wu: [Float], up: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let h = config.hiddenSize, i = config.intermediateSize
        linear(xn, wg, n: i, k: h, out: out)
        linear(xn, wu, n: i, k: h, out: up)
        siluMul(gate: out, up: up)
    }

    /// gate = silu(gate) ⊙ up over T × intermediate.
    func siluMul(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>) {
        let i = config.intermediateSize
        parallelRanges(tokens, threads: threads, minPerThread: 16) { rows in
            for r in rows { VectorOps.siluMul(gate: gate + r * i, up: up + r * i, out: gate + r * i, count: i) }
        }
    }
}

/// Σ (a - b)² over n floats, in Double: fp32 partial sums of 4096-element chunks, added in order, so
/// the value does not depend on `threads` (chunks are summed in parallel, then in sequence).
func squaredError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, threads: Int = 1) -> Double {
    let chunk = 4096
    let chunks = (count + chunk - 1) / chunk
    var parts = [Float](repeating: 0, count: chunks)
    parts.withUnsafeMutableBufferPointer { pp in
        let p = pp.baseAddress!
        parallelRanges(chunks, threads: threads, minPerThread: 16) { cs in
            for ci in cs {
                var part: Float = 0
                for j in (ci * chunk)..<min(count, (ci + 1) * chunk) { let d = a[j] - b[j]; part += d * d }
                p[ci] = part
            }
        }
    }
    var s = 0.0
    for part in parts { s += Double(part) }
    return s
}
