import Foundation

/// Fake quantisers used inside the smoothing loss (QQQ-METHOD 2.3), in place on fp32 buffers.
public enum FakeQuant {
    /// Smallest scale (fp32 epsilon), so all-zero tokens/rows stay zero instead of NaN.
    public static let scaleFloor: Float = 1.19e-7

    /// Qa: per-token symmetric int8, scale = absmax/127, clamp [-127, 127].
    public static func activationsPerToken(_ x: UnsafeMutablePointer<Float>, tokens: Int, channels: Int) {
        for t in 0..<tokens {
            let row = x + t * channels
            var m: Float = 0
            for c in 0..<channels { m = max(m, abs(row[c])) }
            let s = max(m / 127, scaleFloor)
            for c in 0..<channels {
                var v = row[c] / s
                v = min(127, max(-127, v))
                row[c] = WeightQuantizer.roundHalfEven(v) * s
            }
        }
    }

    /// Qw: per-row (groupSize <= 0) or per-slice 4-bit MinMax, scale = absmax/7, clamp [-7, 7].
    /// Note: not GPTQ's g128 grid (levels [-8,7], 2*amax/15); the reference smoothing uses this.
    /// `clip` (`--smooth-clip`): each scale from GPTQ's clip search on the same grid (absmax/7 shrunk
    /// while Σ|q(w) - w|^2.4 falls) instead of absmax/7, rows in parallel.
    public static func weightsMinMax(_ w: UnsafeMutablePointer<Float>, rows: Int, columns: Int, groupSize: Int = -1,
                                     clip: Bool = false) {
        let gs = groupSize > 0 ? groupSize : columns
        let body = { (rs: Range<Int>) in
            for r in rs {
                var c0 = 0
                while c0 < columns {
                    let c1 = min(columns, c0 + gs)
                    let p = w + r * columns
                    let s = minMaxScale(p + c0, count: c1 - c0, clip: clip)
                    for c in c0..<c1 {
                        let v = min(7, max(-7, p[c] / s))
                        p[c] = WeightQuantizer.roundHalfEven(v) * s
                    }
                    c0 = c1
                }
            }
        }
        if clip { GPTQ.parallelRows(rows, body) } else { body(0..<rows) }
    }

    /// The 4-bit scale of one row or slice of the smoothing loss: absmax/7, or with `clip` the clip search's
    /// shrink of it (per-channel levels [-7, 7], the same grid).
    public static func minMaxScale(_ p: UnsafePointer<Float>, count: Int, clip: Bool) -> Float {
        if clip { return max(WeightQuantizer(granularity: .perChannel, mse: true).findScale(p, count: count), scaleFloor) }
        var m: Float = 0
        for c in 0..<count { m = max(m, abs(p[c])) }
        return max(m / 7, scaleFloor)
    }

    public static func activationsPerToken(_ x: inout [Float], channels: Int) {
        let t = channels > 0 ? x.count / channels : 0
        x.withUnsafeMutableBufferPointer { activationsPerToken($0.baseAddress!, tokens: t, channels: channels) }
    }

    public static func weightsMinMax(_ w: inout [Float], rows: Int, columns: Int, groupSize: Int = -1) {
        w.withUnsafeMutableBufferPointer { weightsMinMax($0.baseAddress!, rows: rows, columns: columns, groupSize: groupSize) }
    }
}
