import Foundation

/// Adaptive smoothing of one layer (QQQ-METHOD §2): for each group (qkv after input_layernorm,
/// v→o, gate/up after post_attention_layernorm, up→down), search the outlier threshold t whose scales s = max(1, |x_c|max / t) minimise the output MSE
/// under W4/A8 fake quantization, then fold s into the norms and weights (exact in float).
public struct LayerSmoother {
    public struct Choice: Codable {
        public let group: String
        public let threshold: Double
        public let candidates: Int
        public let evaluations: Int
        public let loss: Double
        public let baselineLoss: Double   // loss at t = bound (no smoothing)
        public let scaledChannels: Int
        public let seconds: Double        // time of this group's search
    }

    let math: LayerMath
    let options: QuantizeOptions

    /// Searches and applies the scales of every group of `layer`, on the windows `inputs` ([T][hidden] each).
    func smooth(_ L: inout LayerWeights, inputs: [UnsafePointer<Float>]) throws -> [Choice] {
        let c = math.config
        let t = math.tokens, h = c.hiddenSize, inter = c.intermediateSize
        let (qd, kvd) = (math.qDim, math.kvDim)
        let s = inputs.count
        var choices: [Choice] = []
        // Group inputs of the fp layer (smoothing is exact in float, so they stay valid as groups are folded).
        var a1 = [Float](repeating: 0, count: s * t * h)       // input_layernorm outputs
        var a2 = [Float](repeating: 0, count: s * t * h)       // post_attention_layernorm outputs
        var a3 = [Float](repeating: 0, count: s * t * inter)   // silu(gate) * up
        var attnOut = [Float](repeating: 0, count: s * t * qd) // targets of the qkv group
        var scratchH = [Float](repeating: 0, count: t * h)
        var up = [Float](repeating: 0, count: t * inter)
        for (w, x) in inputs.enumerated() {
            a1.withUnsafeMutableBufferPointer { b in math.rmsNorm(x, weight: L.ln1, out: b.baseAddress! + w * t * h) }
            attnOut.withUnsafeMutableBufferPointer { ab in
                a1.withUnsafeBufferPointer { a in
                    math.attention(a.baseAddress! + w * t * h, wq: L.w[0], wk: L.w[1], wv: L.w[2], bias: L.bias, out: ab.baseAddress! + w * t * qd)
                }
                scratchH.withUnsafeMutableBufferPointer { sh in
                    math.linear(ab.baseAddress! + w * t * qd, L.w[3], n: h, k: qd, out: sh.baseAddress!)
                    for i in 0..<(t * h) { sh[i] += x[i] }  // h1 = x + o(attn)
                    a2.withUnsafeMutableBufferPointer { b in math.rmsNorm(sh.baseAddress!, weight: L.ln2, out: b.baseAddress! + w * t * h) }
                }
            }
            a2.withUnsafeBufferPointer { a in
                a3.withUnsafeMutableBufferPointer { b in
                    up.withUnsafeMutableBufferPointer { u in
                        math.swiglu(a.baseAddress! + w * t * h, wg: L.w[4], wu: L.w[5], up: u.baseAddress!, out: b.baseAddress! + w * t * inter)
                    }
                }
            }
        }
        // Candidate evaluations see a bounded number of tokens (options.smoothTokens): q/k/v whole
        // windows (attention), the MLP groups an evenly strided subset of all windows' tokens.
        let budget = options.smoothTokens
        let qkvWindows = budget <= 0 ? s : min(s, max(1, (budget + t - 1) / t))
        let stride = budget <= 0 ? 1 : max(1, (s * t) / budget)
        let sub = (s * t + stride - 1) / stride
        // Runs the MLP groups over all `sub` tokens: with stride 1 and several windows that is more than
        // one window's `t` (a LayerMath of `t` tokens there would compute only the first window).
        let subMath = sub == t ? math : LayerMath(config: c, tokens: sub, threads: math.threads)
        func gather(_ src: [Float], width: Int) -> [Float] {
            if stride == 1 { return src }
            var out = [Float](repeating: 0, count: sub * width)
            src.withUnsafeBufferPointer { sp in
                out.withUnsafeMutableBufferPointer { op in
                    for r in 0..<sub { (op.baseAddress! + r * width).update(from: sp.baseAddress! + r * stride * width, count: width) }
                }
            }
            return out
        }
        let a2Sub = gather(a2, width: h), a3Sub = gather(a3, width: inter)

        // Group 1: q, k, v after input_layernorm; loss measured after attention.
        var out = [Float](repeating: 0, count: t * qd)   // attention output of a qkv candidate
        // "auto": the integer kernels where they compute the reference's integers exactly (per-channel);
        // per-group keeps the reference's float per-slice scales.
        let useInt = options.smoothKernels == "int" || (options.smoothKernels == "auto" && options.groupSize <= 0)
        let arith = CandidateArithmetic(useInt: useInt, groupSize: options.groupSize, threads: math.threads, clip: options.smoothClip)
        let timer = StageTimer.shared
        let qkv = try search(name: "qkv", input: a1, channels: h) { sc in
            let wq = try [(0, qd), (1, kvd), (2, kvd)].map { try arith.weights(L.w[$0.0], rows: $0.1, columns: h, columnScales: sc, slot: $0.0) }
            var loss = 0.0
            for w in 0..<qkvWindows {
                try a1.withUnsafeBufferPointer { try arith.setInput($0.baseAddress! + w * t * h, rows: t, width: h, scales: sc) }
                try out.withUnsafeMutableBufferPointer { o in
                    try math.attention(bias: L.bias, out: o.baseAddress!) { q, k, v in
                        try arith.apply(wq[0], out: q); try arith.apply(wq[1], out: k); try arith.apply(wq[2], out: v)
                    }
                    attnOut.withUnsafeBufferPointer { y in loss += squaredError(o.baseAddress!, y.baseAddress! + w * t * qd, count: t * qd, threads: math.threads) }
                }
            }
            return loss / Double(qkvWindows * t)
        }
        try SmoothFold.divide(&L.ln1, by: qkv.scales)
        for (m, n) in [(0, qd), (1, kvd), (2, kvd)] { try SmoothFold.scaleColumns(&L.w[m], rows: n, columns: h, by: qkv.scales) }
        choices.append(qkv.choice)

        // Group 2: v→o. o_proj's input channel (head q, dim j) is v_proj's output row (KV head q / group,
        // dim j), so a scale there is exact in float: o_proj's columns times s, v's rows (and bias) over s.
        // With grouped-query attention the query heads of one KV head share its scale (`smoothVO` "shared");
        // the reference folds this group only when every head has its own KV head ("mha").
        let heads = c.numHeads, kvHeads = c.numKVHeads, d = c.headDim
        if options.smoothVO == "shared" || (options.smoothVO == "mha" && heads == kvHeads) {
            let group = heads / kvHeads
            let expand = { (sc: [Float]) -> [Float] in (0..<qd).map { sc[($0 / d / group) * d + $0 % d] } }
            let attnSub = gather(attnOut, width: qd)
            var oTarget = [Float](repeating: 0, count: sub * h)
            attnSub.withUnsafeBufferPointer { a in
                oTarget.withUnsafeMutableBufferPointer { y in subMath.linear(a.baseAddress!, L.w[3], n: h, k: qd, out: y.baseAddress!) }
            }
            var oOut = [Float](repeating: 0, count: sub * h)
            var stats = SmoothChannelStats(channels: qd)
            attnOut.withUnsafeBufferPointer { stats.add(x: $0.baseAddress!, tokens: s * t) }
            let vo = try search(name: "o", stats: stats.sharedAcrossHeads(heads: heads, kvHeads: kvHeads, headDim: d)) { sc in
                try linearLoss(arith, weight: L.w[3], rows: h, columns: qd, input: attnSub, target: oTarget, scales: expand(sc), out: &oOut)
            }
            try SmoothFold.divideRows(&L.w[2], rows: kvd, columns: h, by: vo.scales)
            if L.bias[2] != nil { try SmoothFold.divide(&L.bias[2]!, by: vo.scales) }
            try SmoothFold.scaleColumns(&L.w[3], rows: h, columns: qd, by: expand(vo.scales))
            choices.append(vo.choice)
        }

        // Group 3: gate and up after post_attention_layernorm; loss on silu(gate) * up.
        var upScratch = [Float](repeating: 0, count: sub * inter)
        var subOut = [Float](repeating: 0, count: sub * max(h, inter))
        let ug = try search(name: "gate/up", input: a2, channels: h) { sc in
            let (gq, uq) = try timer.measure("smoothing: candidate weights") {
                (try arith.weights(L.w[4], rows: inter, columns: h, columnScales: sc, slot: 4),
                 try arith.weights(L.w[5], rows: inter, columns: h, columnScales: sc, slot: 5))
            }
            try timer.measure("smoothing: candidate inputs") {
                try a2Sub.withUnsafeBufferPointer { try arith.setInput($0.baseAddress!, rows: sub, width: h, scales: sc) }
            }
            var loss = 0.0
            try subOut.withUnsafeMutableBufferPointer { o in
                try upScratch.withUnsafeMutableBufferPointer { u in
                    try timer.measure("smoothing: candidate GEMMs") {
                        try arith.apply(gq, out: o.baseAddress!)
                        try arith.apply(uq, out: u.baseAddress!)
                    }
                    timer.measure("smoothing: silu") { subMath.siluMul(gate: o.baseAddress!, up: u.baseAddress!) }
                }
                timer.measure("smoothing: loss") {
                    a3Sub.withUnsafeBufferPointer { y in loss = squaredError(o.baseAddress!, y.baseAddress!, count: sub * inter, threads: math.threads) }
                }
            }
            return loss / Double(sub)
        }
        try SmoothFold.divide(&L.ln2, by: ug.scales)
        try SmoothFold.scaleColumns(&L.w[4], rows: inter, columns: h, by: ug.scales)
        try SmoothFold.scaleColumns(&L.w[5], rows: inter, columns: h, by: ug.scales)
        choices.append(ug.choice)

        // Group 4: down_proj on silu(gate) * up; the inverse scale goes into the rows of up.
        var target = [Float](repeating: 0, count: sub * h)
        a3Sub.withUnsafeBufferPointer { a in
            target.withUnsafeMutableBufferPointer { y in subMath.linear(a.baseAddress!, L.w[6], n: h, k: inter, out: y.baseAddress!) }
        }
        let dn = try search(name: "down", input: a3, channels: inter) { sc in
            try linearLoss(arith, weight: L.w[6], rows: h, columns: inter, input: a3Sub, target: target, scales: sc, out: &subOut)
        }
        try SmoothFold.scaleColumns(&L.w[6], rows: h, columns: inter, by: dn.scales)
        try SmoothFold.divideRows(&L.w[5], rows: inter, columns: h, by: dn.scales)
        choices.append(dn.choice)
        return choices
    }

    /// Mean squared output error per token of one plain linear under W4/A8 (the o and down groups):
    /// columns of `weight` ([rows x columns]) times `scales`, the `input` rows over them, against `target`.
    private func linearLoss(_ arith: CandidateArithmetic, weight: [Float], rows: Int, columns: Int, input: [Float],
                            target: [Float], scales: [Float], out: inout [Float]) throws -> Double {
        let wq = try arith.weights(weight, rows: rows, columns: columns, columnScales: scales, slot: 6)
        let tokens = input.count / columns
        try input.withUnsafeBufferPointer { try arith.setInput($0.baseAddress!, rows: tokens, width: columns, scales: scales) }
        var loss = 0.0
        try out.withUnsafeMutableBufferPointer { o in
            try arith.apply(wq, out: o.baseAddress!)
            target.withUnsafeBufferPointer { y in loss = squaredError(o.baseAddress!, y.baseAddress!, count: tokens * rows, threads: math.threads) }
        }
        return loss / Double(tokens)
    }

    private func search(name: String, input: [Float], channels: Int,
                        loss: ([Float]) throws -> Double) throws -> (scales: [Float], choice: Choice) {
        var stats = SmoothChannelStats(channels: channels)
        input.withUnsafeBufferPointer { stats.add(x: $0.baseAddress!, tokens: input.count / channels) }
        return try search(name: name, stats: stats, loss: loss)
    }

    /// Searches the threshold over the candidates of `stats`; `loss` maps scales (one per channel of
    /// `stats`) to the group's output error.
    private func search(name: String, stats: SmoothChannelStats,
                        loss: ([Float]) throws -> Double) throws -> (scales: [Float], choice: Choice) {
        let channels = stats.channels
        let candidates = SmoothThresholds.candidates(gmax: stats.gmax, gmin: stats.gmin)
        guard !candidates.isEmpty else {
            return ([Float](repeating: 1, count: channels),
                    Choice(group: name, threshold: 0, candidates: 0, evaluations: 0, loss: 0, baselineLoss: 0, scaledChannels: 0, seconds: 0))
        }
        let clock = Stopwatch()
        var cache: [Int: Double] = [:]
        func evaluate(_ threshold: Double) throws -> Double {
            let key = Int((threshold * 1e6).rounded())
            if let hit = cache[key] { return hit }
            let value = try loss(SmoothThresholds.scales(stats, threshold: threshold))
            cache[key] = value
            return value
        }
        let outcome = options.smoothSearch == "full"
            ? try SmoothSearch.search(candidates: candidates, loss: { try evaluate($0) })
            : try SmoothSearch.coarseToFine(candidates: candidates, loss: { try evaluate($0) })
        guard let best = outcome else { throw QQQError.numerical("smoothing search of \(name) found no candidate") }
        let baseline = try evaluate(candidates[0])
        let scales = SmoothThresholds.scales(stats, threshold: best.threshold)
        return (scales, Choice(group: name, threshold: best.threshold, candidates: candidates.count,
                               evaluations: cache.count, loss: best.loss, baselineLoss: baseline,
                               scaledChannels: scales.filter { $0 > 1 }.count, seconds: clock.seconds))
    }
}
