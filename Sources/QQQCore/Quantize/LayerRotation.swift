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

    mutating func rotate(_ rotation: HadamardRotation, config c: ModelConfig, threads: Int) throws {
        let h = c.hiddenSize, d = c.headDim
        precondition(rotation.size == h && d & (d - 1) == 0, "rotation built for another model")
        for (norm, js) in [(\LayerWeights.ln1, [Self.q, Self.k, Self.v]), (\LayerWeights.ln2, [Self.gate, Self.up])] {
            let g = self[keyPath: norm]
            for j in js {
                let n = shapes[j].n
                w[j].withUnsafeMutableBufferPointer { m in
                    for r in 0..<n { for col in 0..<h { m[r * h + col] *= g[col] } }
                    rotation.rotateRows(m.baseAddress!, rows: n, ld: h, threads: threads)
                }
            }
            self[keyPath: norm] = [Float](repeating: 1, count: h)
        }
        for j in [Self.o, Self.down] {
            w[j].withUnsafeMutableBufferPointer { m in rotation.rotateColumns(m.baseAddress!, cols: shapes[j].k, threads: threads) }
        }
        // v→o: H on each KV head's block of v_proj rows (column by column) and bias, H on each query
        // head's block of o_proj columns (row by row).
        let kv = c.numKVHeads
        w[Self.v].withUnsafeMutableBufferPointer { m in
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: d)
            defer { buf.deallocate() }
            for g in 0..<kv {
                for col in 0..<h {
                    for i in 0..<d { buf[i] = m[(g * d + i) * h + col] }
                    Self.sylvester(buf, count: d)
                    for i in 0..<d { m[(g * d + i) * h + col] = buf[i] }
                }
            }
        }
        if bias[Self.v] != nil {
            bias[Self.v]!.withUnsafeMutableBufferPointer { b in for g in 0..<kv { Self.sylvester(b.baseAddress! + g * d, count: d) } }
        }
        let qd = shapes[Self.o].k
        w[Self.o].withUnsafeMutableBufferPointer { m in
            for r in 0..<h { for head in 0..<(qd / d) { Self.sylvester(m.baseAddress! + r * qd + head * d, count: d) } }
        }
    }

    /// x := H x / sqrt(n) for the Sylvester Hadamard H of order n (a power of two), in Double.
    static func sylvester(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var t = [Double](repeating: 0, count: n)
        for i in 0..<n { t[i] = Double(x[i]) }
        t.withUnsafeMutableBufferPointer { Hadamard.walshHadamard($0.baseAddress!, count: n) }
        let norm = 1 / Double(n).squareRoot()
        for i in 0..<n { x[i] = Float(t[i] * norm) }
    }
}
