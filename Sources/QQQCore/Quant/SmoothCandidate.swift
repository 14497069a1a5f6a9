import Foundation
import QQQKernels

/// A smoothing candidate's Qw(W·s) run through the integer kernels (`--smooth-kernels int`): the same
/// 4-bit MinMax codes as `FakeQuant.weightsMinMax` (scale absmax/7, levels [-7, 7], per row or per
/// 128-column slice), and Qa as the kernels' per-token int8 quantization (the reference's Qa: |x/σ| never
/// exceeds 127, so its clamp to -127 never acts).
/// Per-channel this is the reference's arithmetic exactly (integer sums, one float epilogue). Per-group
/// the slice scales are carried in the two-level QQQ form (an fp16 ratio per slice, the product rounded
/// to int8, one per-row scale): the format the checkpoint is finally written in, not the float
/// per-slice scale of the reference's fake quantizer.
enum SmoothCandidate {
    static func intWeights(_ w: [Float], rows n: Int, columns k: Int, groupSize: Int, clip: Bool = false) throws -> IntWeights {
        try w.withUnsafeBufferPointer { try intWeights($0.baseAddress!, rows: n, columns: k, groupSize: groupSize, clip: clip) }
    }

    static func intWeights(_ w: UnsafePointer<Float>, rows n: Int, columns k: Int, groupSize: Int, clip: Bool = false) throws -> IntWeights {
        let gs = groupSize > 0 ? groupSize : k
        let groups = (k + gs - 1) / gs
        var codes = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n * groups)
        codes.withUnsafeMutableBufferPointer { cp in
            scales.withUnsafeMutableBufferPointer { sp in
                let (c, s) = (cp.baseAddress!, sp.baseAddress!)
                GPTQ.parallelRows(n) { r in
                    for i in r {
                        for g in 0..<groups {
                            let c0 = g * gs, c1 = min(k, c0 + gs)
                            let scale = FakeQuant.minMaxScale(w + i * k + c0, count: c1 - c0, clip: clip)
                            s[i * groups + g] = scale
                            for j in c0..<c1 {
                                c[i * k + j] = Int8(WeightQuantizer.roundHalfEven(min(7, max(-7, w[i * k + j] / scale))))
                            }
                        }
                    }
                }
            }
        }
        let result = GPTQResult(rows: n, columns: k, groupSize: groupSize > 0 ? groupSize : -1, codes: codes, scales: scales,
                                dequantized: [], loss: 0, percDampUsed: 0, warnings: [])
        return try QQQFormat.pack(result, layerName: "smoothing candidate").intWeights()
    }
}

/// A candidate's quantized weights, in the form `CandidateArithmetic` multiplies. The float form points
/// into the arithmetic's reusable storage: valid until the next `weights` call on the same slot.
enum CandidateWeights {
    case float(UnsafePointer<Float>, n: Int, k: Int)  // fake-quantized Qw(W · s), N x K
    case int(IntWeights)
}

/// How a smoothing candidate's W4/A8 outputs y = Qa(x / s) · Qw(W · s)ᵀ are computed
/// (`--smooth-kernels`): through the integer kernels, or by fake quantization and the FP32 GEMM (the
/// reference's arithmetic). One input is set, then any number of weights run over it.
/// Weights and inputs are prepared in buffers kept from one candidate to the next, rows in parallel:
/// fresh arrays per candidate (copies of W, then of W · s) cost page faults and a single-threaded
/// pass each, ~5% of a calibration's wall time on 2 cores (perf, Zen 3). Same arithmetic, same bits.
final class CandidateArithmetic {
    let useInt: Bool
    let groupSize: Int
    let threads: Int
    /// Clip-searched weight scales (`--smooth-clip`) instead of absmax/7.
    let clip: Bool
    private var input: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)  // x / s (fake-quantized in float mode)
    private var acts: QuantizedActivations?
    private var rows = 0
    private var slots: [Int: UnsafeMutableBufferPointer<Float>] = [:]

    init(useInt: Bool, groupSize: Int, threads: Int, clip: Bool = false) {
        self.useInt = useInt
        self.clip = clip
        self.groupSize = groupSize
        self.threads = threads
    }

    deinit {
        input.deallocate()
        slots.values.forEach { $0.deallocate() }
    }

    private func storage(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        if let b = slots[slot], b.count >= count { return b.baseAddress! }
        slots[slot]?.deallocate()
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count))
        slots[slot] = b
        return b.baseAddress!
    }

    /// Qw(W · s): the columns of `w` ([n x k]) times `columnScales` (nil: as they are), quantized, kept
    /// in storage `slot` (one slot per weight a candidate uses at the same time).
    func weights(_ w: [Float], rows n: Int, columns k: Int, columnScales: [Float]? = nil, slot: Int = 0) throws -> CandidateWeights {
        guard w.count == n * k, (columnScales?.count ?? k) == k else {
            throw QQQError.invalidInput("smoothing: weight \(n)x\(k) (\(w.count) values) vs \(columnScales?.count ?? k) scales")
        }
        let dst = storage(slot, count: n * k)
        let (useInt, groupSize, clip) = (self.useInt, self.groupSize, self.clip)
        let scales = columnScales ?? []
        w.withUnsafeBufferPointer { wp in
            scales.withUnsafeBufferPointer { sp in
                let (src, sc) = (wp.baseAddress!, sp.isEmpty ? nil : sp.baseAddress)  // nil: no scales
                GPTQ.parallelRows(n) { rs in
                    for r in rs {
                        let (s, d) = (src + r * k, dst + r * k)
                        if let sc { for c in 0..<k { d[c] = s[c] * sc[c] } } else { d.update(from: s, count: k) }
                        if !useInt { FakeQuant.weightsMinMax(d, rows: 1, columns: k, groupSize: groupSize, clip: clip) }
                    }
                }
            }
        }
        if useInt { return .int(try SmoothCandidate.intWeights(dst, rows: n, columns: k, groupSize: groupSize, clip: clip)) }
        return .float(dst, n: n, k: k)
    }

    /// Sets the input to x[r][c] / scales[c] for `rows` rows of `width`, then Qa per token.
    func setInput(_ x: UnsafePointer<Float>, rows: Int, width: Int, scales: [Float]) throws {
        if input.count < rows * width {
            input.deallocate()
            input = .allocate(capacity: rows * width)
        }
        self.rows = rows
        let d = input.baseAddress!
        let useInt = self.useInt
        scales.withUnsafeBufferPointer { sc in
            let s = sc.baseAddress!
            parallelRanges(rows, threads: threads, minPerThread: 64) { rs in
                for r in rs {
                    for c in 0..<width { d[r * width + c] = x[r * width + c] / s[c] }
                    if !useInt { FakeQuant.activationsPerToken(d + r * width, tokens: 1, channels: width) }
                }
            }
        }
        if useInt {
            if acts == nil || acts!.k != width || acts!.capacity < rows { acts = QuantizedActivations(capacity: rows, k: width) }
            try acts!.quantize(d, m: rows, ldx: width, threads: threads)
        }
    }

    /// out[rows][n] = the current input times the weights.
    func apply(_ w: CandidateWeights, out: UnsafeMutablePointer<Float>) throws {
        switch w {
        case let .int(iw):
            try IntGemm.run(acts!, weights: iw, y: out, ldy: iw.n, threads: threads)
        case let .float(q, n, k):
            Gemm.sgemm(m: rows, n: n, k: k, a: input.baseAddress!, lda: k, b: UnsafeRawPointer(q), ldb: k, bType: .f32, bLayout: .nk,
                       c: out, ldc: n, threads: threads)
        }
    }
}
