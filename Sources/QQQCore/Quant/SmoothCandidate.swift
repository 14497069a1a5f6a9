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
    static func intWeights(_ w: [Float], rows n: Int, columns k: Int, groupSize: Int) throws -> IntWeights {
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
                                var m: Float = 0
                                for j in c0..<c1 { m = max(m, abs(w[i * k + j])) }
                                let scale = max(m / 7, FakeQuant.scaleFloor)
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
        let packed = try QQQFormat.pack(result, layerName: "smoothing candidate")
        return try packed.qweight.withUnsafeBytes { q in
            try packed.sChannel.withUnsafeBufferPointer { sc in
                if groupSize > 0 {
                    return try packed.sGroup.withUnsafeBufferPointer { sg in
                        try IntWeights.w4(plainNibbles: q.baseAddress!, n: n, k: k, scale: sc.baseAddress!, sGroup: sg.baseAddress!)
                    }
                }
                return try IntWeights.w4(plainNibbles: q.baseAddress!, n: n, k: k, scale: sc.baseAddress!)
            }
        }
    }
}

/// y[rows][n] = Qa(x)·Qw(W)ᵀ through the integer kernels, reusing one activation buffer.
final class SmoothIntLinear {
    private var acts: QuantizedActivations?
    let threads: Int
    init(threads: Int) { self.threads = threads }

    /// Quantizes `x` (rows × k, per token) once; `apply` then runs any weights over it.
    func quantize(_ x: UnsafePointer<Float>, rows: Int, k: Int) throws {
        if acts == nil || acts!.k != k || acts!.capacity < rows { acts = QuantizedActivations(capacity: rows, k: k) }
        try acts!.quantize(x, m: rows, ldx: k, threads: threads)
    }

    func apply(_ w: IntWeights, out: UnsafeMutablePointer<Float>) throws {
        try IntGemm.run(acts!, weights: w, y: out, ldy: w.n, threads: threads)
    }
}
