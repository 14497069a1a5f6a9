import Foundation

/// The offline rotation of one decoder layer (QQQ-METHOD §3), applied before smoothing and GPTQ:
/// the RMSNorm weights are fused into the linears that read them (then 1), the reading linears'
/// input columns rotated (W Q), the writing linears' output rows rotated (Qᵀ W), and each head's v→o
/// path turned by a normalized Sylvester Hadamard (v_proj's rows and o_proj's columns; they cancel
/// exactly, under grouped-query attention too). The layer computes the same function on the rotated
/// residual stream, whose outliers are spread over all channels.
extension LayerWeights {
    /// The residual-stream rotation of a model, or an error naming what it cannot rotate.
    static func rotation(for c: ModelConfig, seed: UInt64) throws -> HadamardRotation {
        let d = c.headDim
        guard d > 0, d & (d - 1) == 0 else {
            throw QQQError.invalidInput("--rotate: head_dim \(d) of \(c.path) is not a power of two (the per-head Hadamard of v→o needs one)")
        }
        do {
            return try HadamardRotation(size: c.hiddenSize, seed: seed)
        } catch {
            throw QQQError.invalidInput("--rotate: hidden size \(c.hiddenSize) of \(c.path): \(error)")
        }
    }

    mutating func rotate(_ rotation: HadamardRotation, config c: ModelConfig, threads: Int) {
        let h = c.hiddenSize, d = c.headDim
        precondition(rotation.size == h && d & (d - 1) == 0, "rotation built for another model")
        for (norm, js) in [(\LayerWeights.ln1, [Self.q, Self.k, Self.v]), (\LayerWeights.ln2, [Self.gate, Self.up])] {
            let g = self[keyPath: norm]
            for j in js {
                w[j].withUnsafeMutableBufferPointer { m in
                    rotation.rotateRows(m.baseAddress!, rows: shapes[j].n, ld: h, columnScales: g, threads: threads)
                }
            }
            self[keyPath: norm] = [Float](repeating: 1, count: h)
        }
        for j in [Self.o, Self.down] {
            w[j].withUnsafeMutableBufferPointer { m in rotation.rotateColumns(m.baseAddress!, cols: shapes[j].k, threads: threads) }
        }
        // v→o: H on each KV head's block of v_proj rows (column by column, stride h) and bias, H on each
        // query head's block of o_proj columns (row by row).
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: d)
        defer { scratch.deallocate() }
        w[Self.v].withUnsafeMutableBufferPointer { m in
            for g in 0..<c.numKVHeads {
                for col in 0..<h { Self.sylvester(m.baseAddress! + g * d * h + col, stride: h, count: d, scratch: scratch) }
            }
        }
        if bias[Self.v] != nil {
            bias[Self.v]!.withUnsafeMutableBufferPointer { b in
                for g in 0..<c.numKVHeads { Self.sylvester(b.baseAddress! + g * d, stride: 1, count: d, scratch: scratch) }
            }
        }
        let qd = shapes[Self.o].k
        w[Self.o].withUnsafeMutableBufferPointer { m in
            for r in 0..<h {
                for head in 0..<(qd / d) { Self.sylvester(m.baseAddress! + r * qd + head * d, stride: 1, count: d, scratch: scratch) }
            }
        }
    }

    /// x[i * stride] := (H x)_i / sqrt(n) for i < n and the Sylvester Hadamard H of order n (a power of
    /// two), computed in Double in `scratch` (n values).
    static func sylvester(_ x: UnsafeMutablePointer<Float>, stride: Int, count n: Int, scratch t: UnsafeMutablePointer<Double>) {
        for i in 0..<n { t[i] = Double(x[i * stride]) }
        Hadamard.walshHadamard(t, count: n)
        let norm = 1 / Double(n).squareRoot()
        for i in 0..<n { x[i * stride] = Float(t[i] * norm) }
    }
}
