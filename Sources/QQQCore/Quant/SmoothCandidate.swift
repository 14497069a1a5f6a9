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
        let gs = groupSize > 0 ? groupSize : k
        let groups = (k + gs - 1) / gs
        var codes = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n * groups)
        w.withUnsafeBufferPointer { wp in
            codes.withUnsafeMutableBufferPointer { cp in
                scales.withUnsafeMutableBufferPointer { sp in
                    let (w, c, s) = (wp.baseAddress!, cp.baseAddress!, sp.baseAddress!)
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
        }
        let result = GPTQResult(rows: n, columns: k, groupSize: groupSize > 0 ? groupSize : -1, codes: codes, scales: scales,
                                dequantized: [], loss: 0, percDampUsed: 0, warnings: [])
        return try QQQFormat.pack(result, layerName: "smoothing candidate").intWeights()
    }
}

/// A candidate's quantized weights, in the form `CandidateArithmetic` multiplies.
enum CandidateWeights {
    case float([Float], n: Int, k: Int)  // fake-quantized Qw(W), N x K
    case int(IntWeights)
}

/// How a smoothing candidate's W4/A8 outputs y = Qa(x / s) · Qw(W · s)ᵀ are computed
/// (`--smooth-kernels`): through the integer kernels, or by fake quantization and the FP32 GEMM (the
/// reference's arithmetic). One input is set, then any number of weights run over it.
final class CandidateArithmetic {
    let useInt: Bool
    let groupSize: Int
    let threads: Int
    /// Clip-searched weight scales (`--smooth-clip`) instead of absmax/7.
    let clip: Bool
    private var input: [Float] = []  // x / s: fake-quantized in float mode, the integer kernels' source otherwise
    private var acts: QuantizedActivations?
    private var rows = 0

    init(useInt: Bool, groupSize: Int, threads: Int, clip: Bool = false) {
        self.useInt = useInt
        self.clip = clip
        self.groupSize = groupSize
        self.threads = threads
    }

    func weights(_ w: [Float], rows n: Int, columns k: Int) throws -> CandidateWeights {
        if useInt { return .int(try SmoothCandidate.intWeights(w, rows: n, columns: k, groupSize: groupSize, clip: clip)) }
        var q = w
        q.withUnsafeMutableBufferPointer { FakeQuant.weightsMinMax($0.baseAddress!, rows: n, columns: k, groupSize: groupSize, clip: clip) }
        return .float(q, n: n, k: k)
    }

    /// Sets the input to x[r][c] / scales[c] for `rows` rows of `width`, then Qa per token.
    func setInput(_ x: UnsafePointer<Float>, rows: Int, width: Int, scales: [Float]) throws {
        if input.count < rows * width { input = [Float](repeating: 0, count: rows * width) }
        self.rows = rows
        try input.withUnsafeMutableBufferPointer { dst in
            let d = dst.baseAddress!
            scales.withUnsafeBufferPointer { sc in
                for r in 0..<rows {
                    for c in 0..<width { d[r * width + c] = x[r * width + c] / sc[c] }
                }
            }
            if useInt {
                if acts == nil || acts!.k != width || acts!.capacity < rows { acts = QuantizedActivations(capacity: rows, k: width) }
                try acts!.quantize(d, m: rows, ldx: width, threads: threads)
            } else {
                FakeQuant.activationsPerToken(d, tokens: rows, channels: width)
            }
        }
    }

    /// out[rows][n] = the current input times the weights.
    func apply(_ w: CandidateWeights, out: UnsafeMutablePointer<Float>) throws {
        switch w {
        case let .int(iw):
            try IntGemm.run(acts!, weights: iw, y: out, ldy: iw.n, threads: threads)
        case let .float(q, n, k):
            input.withUnsafeBufferPointer { a in
                q.withUnsafeBytes { b in
                    Gemm.sgemm(m: rows, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: k, bType: .f32, bLayout: .nk,
                               c: out, ldc: n, threads: threads)
                }
            }
        }
    }
}
