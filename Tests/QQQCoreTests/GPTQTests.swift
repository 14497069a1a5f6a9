import Testing
@testable import QQQCore

/// Straight transcription of IST/QQQ `fasterquant` without blocking (every update applied at
/// once, Double arithmetic, torch's Cholesky chain): the reference our blocked version must match.
private func naiveGPTQ(weight: [Float], n: Int, k: Int, hessian: [Float], options: GPTQOptions)
    -> (deq: [Float], codes: [Int8], loss: Double) {
    let quant = options.quantizer
    let gs = options.groupSize
    var w = weight
    var h = hessian.map(Double.init)
    var rowScale = [Float](repeating: 0, count: n)
    for i in 0..<n { rowScale[i] = w.withUnsafeBufferPointer { quant.findScale($0.baseAddress! + i * k, count: k) } }
    for j in 0..<k where h[j * k + j] == 0 {
        h[j * k + j] = 1
        for i in 0..<n { w[i * k + j] = 0 }
    }
    let groups = gs > 0 ? (k + gs - 1) / gs : 0
    var gScale = [Float](repeating: 0, count: n * max(groups, 1))
    for i in 0..<n {
        for g in 0..<groups {
            gScale[i * groups + g] = w.withUnsafeBufferPointer {
                quant.findScale($0.baseAddress! + i * k + g * gs, count: min(gs, k - g * gs))
            }
        }
    }
    var perm = Array(0..<k)
    if options.actOrder { perm.sort { h[$0 * k + $0] != h[$1 * k + $1] ? h[$0 * k + $0] > h[$1 * k + $1] : $0 < $1 } }
    var hp = [Double](repeating: 0, count: k * k)
    for i in 0..<k { for j in 0..<k { hp[i * k + j] = h[perm[i] * k + perm[j]] } }
    var mean = 0.0
    for i in 0..<k { mean += hp[i * k + i] }
    mean /= Double(k)
    for i in 0..<k { hp[i * k + i] += options.percDamp * mean }
    let l = Cholesky.lower(hp, n: k)!
    let u = Cholesky.upper(Cholesky.inverse(fromLower: l, n: k), n: k)!
    // wp[i][j] = w[i][perm[j]] in Double
    var wp = [Double](repeating: 0, count: n * k)
    for i in 0..<n { for j in 0..<k { wp[i * k + j] = Double(w[i * k + perm[j]]) } }
    var deq = [Float](repeating: 0, count: n * k)
    var codes = [Int8](repeating: 0, count: n * k)
    var loss = 0.0
    for j in 0..<k {
        let d = u[j * k + j]
        for i in 0..<n {
            let s = gs > 0 ? gScale[i * groups + perm[j] / gs] : rowScale[i]
            let c = quant.code(Float(wp[i * k + j]), scale: s)
            let q = Double(s * c)
            deq[i * k + perm[j]] = Float(q)
            codes[i * k + perm[j]] = Int8(c)
            let e = (wp[i * k + j] - q) / d
            loss += e * e / 2
            for jj in (j + 1)..<max(j + 1, k) { wp[i * k + jj] -= e * u[j * k + jj] }
        }
    }
    return (deq, codes, loss)
}

@Suite struct GPTQTests {
    /// With a diagonal Hessian there is no error feedback: GPTQ must equal round-to-nearest,
    /// also with act-order permuting the columns (distinct diagonal values).
    @Test(arguments: [-1, 128])
    func diagonalHessianEqualsRTN(groupSize: Int) throws {
        let n = 2, k = groupSize > 0 ? 256 : 4
        var rng = QuantTestRNG(seed: 11)
        let w = rng.normals(n * k)
        var h = [Float](repeating: 0, count: k * k)
        for j in 0..<k { h[j * k + j] = Float(1 + (j * 7919) % 13) }
        let opts = GPTQOptions(groupSize: groupSize)
        let g = try GPTQ.quantize(weight: w, rows: n, columns: k, hessian: h, options: opts, layerName: "t")
        let r = try RoundToNearest.quantize(weight: w, rows: n, columns: k, options: opts, layerName: "t")
        #expect(g.codes == r.codes)
        #expect(g.dequantized == r.dequantized)
        #expect(g.scales == r.scales)
        #expect(g.warnings.isEmpty)
        #expect(g.percDampUsed == 0.01)
    }

    /// Tiny hand-checkable case: K=4, N=2, H = I, per-channel.
    @Test func tinyIdentityHand() throws {
        let w: [Float] = [1.75, -3.5, 0.25, 0.75,
                          0, 0, 0, 0]
        var h = [Float](repeating: 0, count: 16)
        for j in 0..<4 { h[j * 4 + j] = 1 }
        let g = try GPTQ.quantize(weight: w, rows: 2, columns: 4, hessian: h, layerName: "tiny")
        #expect(g.codes == [4, -7, 0, 2, 0, 0, 0, 0])
        #expect(g.scales == [0.5, Float(1) / 7])
        #expect(g.dequantized == [2, -3.5, 0, 1, 0, 0, 0, 0])
        // loss = Σ (w-q)²/d²/2 with d = 1/sqrt(1.01): (0.0625 + 0.0625 + 0.0625) * 1.01 / 2
        #expect(abs(g.loss - 0.1875 * 1.01 / 2) < 1e-6)
    }

    /// Blocked, threaded GPTQ against the unblocked Double transcription, all option combinations.
    @Test(arguments: [(-1, true), (-1, false), (128, true), (128, false)])
    func matchesNaiveReference(groupSize: Int, actOrder: Bool) throws {
        let n = 40, k = 300 // K not a multiple of the block or group size
        var rng = QuantTestRNG(seed: 5)
        let h = correlatedHessian(columns: k, tokens: 400, rng: &rng)
        let w = rng.normals(n * k, scale: 0.05)
        for bs in [128, 7] {
            let opts = GPTQOptions(groupSize: groupSize, actOrder: actOrder, staticGroups: true, blockSize: bs)
            let g = try GPTQ.quantize(weight: w, rows: n, columns: k, hessian: h, options: opts, layerName: "t")
            let ref = naiveGPTQ(weight: w, n: n, k: k, hessian: h, options: opts)
            var same = 0, maxDiff: Float = 0
            for i in 0..<(n * k) {
                if g.codes[i] == ref.codes[i] { same += 1 }
                maxDiff = max(maxDiff, abs(g.dequantized[i] - Float(g.codes[i]) * g.scale(row: i / k, column: i % k)))
            }
            #expect(maxDiff == 0) // dequantized is exactly scale * code
            // fp32 vs Double may flip a rare rounding tie and then diverge a little along that row.
            #expect(Double(same) / Double(n * k) > 0.995, "bs \(bs): \(same) of \(n * k) codes agree")
            #expect(abs(g.loss - ref.loss) <= 0.02 * ref.loss)
        }
    }

    /// GPTQ's purpose: lower Hessian-weighted error than RTN on correlated inputs.
    @Test(arguments: [-1, 128])
    func beatsRTNOnCorrelatedInputs(groupSize: Int) throws {
        let n = 64, k = 256
        for seed in 0..<6 {
            var rng = QuantTestRNG(seed: UInt64(100 + seed))
            let h = correlatedHessian(columns: k, tokens: 512, rng: &rng)
            let w = rng.normals(n * k, scale: 0.02)
            let opts = GPTQOptions(groupSize: groupSize)
            let g = try GPTQ.quantize(weight: w, rows: n, columns: k, hessian: h, options: opts, layerName: "t")
            let r = try RoundToNearest.quantize(weight: w, rows: n, columns: k, options: opts, layerName: "t")
            let eg = GPTQ.hessianWeightedError(weight: w, quantized: g.dequantized, rows: n, columns: k, hessian: h)
            let er = GPTQ.hessianWeightedError(weight: w, quantized: r.dequantized, rows: n, columns: k, hessian: h)
            #expect(eg < er, "seed \(seed): gptq \(eg) vs rtn \(er)")
            // The reported loss approximates half the H-weighted error (damping aside).
            #expect(g.loss > 0.3 * eg && g.loss < 0.7 * eg)
            for c in g.codes { #expect(c >= (groupSize > 0 ? -8 : -7) && c <= 7) }
        }
    }

    /// Static groups: group parameters come from the original columns, whatever the act-order
    /// processing order, and every element uses its own column's group (k / 128).
    @Test func staticGroupsUseOriginalSlices() throws {
        let n = 8, k = 576 // shorter last group (576 = 4*128 + 64)
        var rng = QuantTestRNG(seed: 9)
        let h = correlatedHessian(columns: k, tokens: 300, rng: &rng)
        let w = rng.normals(n * k)
        let g = try GPTQ.quantize(weight: w, rows: n, columns: k, hessian: h,
                                  options: GPTQOptions(groupSize: 128), layerName: "t")
        #expect(g.groupCount == 5)
        let q = WeightQuantizer(granularity: .perGroup)
        for i in 0..<n {
            for gi in 0..<5 {
                let c0 = gi * 128, cn = min(128, k - c0)
                let s = w.withUnsafeBufferPointer { q.findScale($0.baseAddress! + i * k + c0, count: cn) }
                #expect(g.scales[i * 5 + gi] == s)
            }
            for c in 0..<k { #expect(g.dequantized[i * k + c] == g.scale(row: i, column: c) * Float(g.codes[i * k + c])) }
        }
    }

    /// Dead columns (H[j][j] == 0) are zeroed; per-channel params still come from the full row.
    @Test func deadColumns() throws {
        let n = 3, k = 16
        var rng = QuantTestRNG(seed: 2)
        var h = correlatedHessian(columns: k, tokens: 64, rng: &rng)
        var w = rng.normals(n * k)
        w[0 * k + 5] = 9 // the row max sits in a dead column
        for j in [5, 12] { for t in 0..<k { h[j * k + t] = 0; h[t * k + j] = 0 } }
        let g = try GPTQ.quantize(weight: w, rows: n, columns: k, hessian: h, layerName: "dead")
        for i in 0..<n {
            #expect(g.codes[i * k + 5] == 0 && g.codes[i * k + 12] == 0)
            #expect(g.dequantized[i * k + 5] == 0)
        }
        #expect(g.scales[0] == Float(9) / 7)
    }

    /// A Hessian that damping 0.01 cannot fix: retried with 10x until it factors, with a warning.
    @Test func dampingRetry() throws {
        // Eigenvalues -2 and 4, mean diagonal 1: fails at 0.01, 0.1, 1 (eigenvalue -1), works at 10.
        let h: [Float] = [1, 3, 3, 1]
        let w: [Float] = [0.5, -0.25, 1, 0.75]
        let g = try GPTQ.quantize(weight: w, rows: 2, columns: 2, hessian: h,
                                  options: GPTQOptions(actOrder: false), layerName: "layers.0.q_proj")
        #expect(abs(g.percDampUsed - 10) < 1e-9)
        #expect(g.warnings.count == 1)
        #expect(g.warnings.first?.contains("layers.0.q_proj") == true)
        // Never positive definite: an error naming the layer.
        let bad: [Float] = [-1, 0, 0, -1]
        #expect(throws: QQQError.self) {
            try GPTQ.quantize(weight: w, rows: 2, columns: 2, hessian: bad, layerName: "layers.1.k_proj")
        }
        do {
            _ = try GPTQ.quantize(weight: w, rows: 2, columns: 2, hessian: bad, layerName: "layers.1.k_proj")
        } catch {
            #expect("\(error)".contains("layers.1.k_proj"))
        }
    }

    @Test func badInputThrows() {
        let h: [Float] = [1, 0, 0, 1]
        #expect(throws: QQQError.self) { try GPTQ.quantize(weight: [1, 2, 3], rows: 2, columns: 2, hessian: h, layerName: "x") }
        #expect(throws: QQQError.self) { try GPTQ.quantize(weight: [1, .nan, 3, 4], rows: 2, columns: 2, hessian: h, layerName: "x") }
        #expect(throws: QQQError.self) { try GPTQ.quantize(weight: [1, 2, 3, 4], rows: 2, columns: 2, hessian: [1, 0, 0], layerName: "x") }
        #expect(throws: QQQError.self) {
            try GPTQ.quantize(weight: [1, 2, 3, 4], rows: 2, columns: 2, hessian: h,
                              options: GPTQOptions(groupSize: 128, actOrder: true, staticGroups: false), layerName: "x")
        }
    }

    /// Hessian accumulator: (2/n) Σ XᵀX with each window counting 1.
    @Test func hessianAccumulates() throws {
        let k = 70
        var rng = QuantTestRNG(seed: 4)
        let x1 = rng.normals(300 * k), x2 = rng.normals(5 * k)
        let h = Hessian(columns: k)
        try h.add(x1)
        try h.add(x2)
        #expect(h.windows == 2)
        let m = h.matrix()
        var maxErr = 0.0
        for a in 0..<k {
            for b in 0..<k {
                var s = 0.0
                for t in 0..<300 { s += Double(x1[t * k + a]) * Double(x1[t * k + b]) }
                for t in 0..<5 { s += Double(x2[t * k + a]) * Double(x2[t * k + b]) }
                maxErr = max(maxErr, abs(Double(m[a * k + b]) - s))
            }
        }
        #expect(maxErr < 1e-3)
        #expect(m[3 * k + 9] == m[9 * k + 3])
    }
}
