import Foundation
import QQQKernels

/// GPTQ's symmetric 4-bit weight grid (QQQ-METHOD 4.3), parameters per output row (or per
/// row and 128-column group).
/// - per-channel: levels [-7, 7], scale = amax / 7
/// - per-group:   levels [-8, 7], scale = (xmax - xmin) / 15 — the reference's rule; usually
///   2*amax/15, but a slice with no negative value keeps xmin = 0 and gets amax/15 (REF quirk,
///   kept so our codes match the reference).
public struct WeightQuantizer: Sendable, Equatable {
    public enum Granularity: Sendable, Equatable { case perChannel, perGroup }

    public let granularity: Granularity
    /// Clip search (`gptq_mse`): grid 100, maxshrink 0.8, norm 2.4.
    public let mse: Bool
    public let grid: Int
    public let maxShrink: Double
    public let norm: Float

    public init(granularity: Granularity, mse: Bool = false, grid: Int = 100,
                maxShrink: Double = 0.8, norm: Float = 2.4) {
        self.granularity = granularity
        self.mse = mse
        self.grid = grid
        self.maxShrink = maxShrink
        self.norm = norm
    }

    public var minLevel: Float { granularity == .perChannel ? -7 : -8 }
    public var maxLevel: Float { 7 }

    /// Round to nearest, ties to even, for |x| < 2^22 (callers clamp first). The magic-number
    /// form vectorises on every x86-64 (no SSE4.1 `roundps` in the baseline target).
    @inline(__always)
    public static func roundHalfEven(_ x: Float) -> Float {
        let magic: Float = 12_582_912 // 1.5 * 2^23
        return (x + magic) - magic
    }

    /// Integer code of x on the grid of `scale` (an integer-valued Float in [minLevel, maxLevel]).
    /// Clamping before rounding is equivalent for integer bounds and keeps the magic form valid.
    @inline(__always)
    public func code(_ x: Float, scale: Float) -> Float {
        let lo = minLevel, hi = maxLevel
        var v = x / scale
        v = v < lo ? lo : (v > hi ? hi : v) // also maps ±inf; NaN is rejected by callers
        return WeightQuantizer.roundHalfEven(v)
    }

    /// Fake-quantised value `scale * code`.
    @inline(__always)
    public func quantize(_ x: Float, scale: Float) -> Float { scale * code(x, scale: scale) }

    /// Scale for the `count` values x[0], x[stride], ... (one row or one row-slice).
    public func findScale(_ x: UnsafePointer<Float>, count: Int, stride: Int = 1) -> Float {
        var lo: Float = 0, hi: Float = 0
        for i in 0..<count {
            let v = x[i * stride]
            lo = min(lo, v)
            hi = max(hi, v)
        }
        let amax = max(-lo, hi)
        var xmin = lo < 0 ? -amax : lo
        var xmax = amax
        if xmin == 0 && xmax == 0 { xmin = -1; xmax = 1 }
        let base = scaleFrom(xmin: xmin, xmax: xmax)
        if !mse { return base }
        // The candidates read the values contiguously: a strided slice is gathered once.
        if stride != 1 {
            return withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { buf in
                for i in 0..<count { buf[i] = x[i * stride] }
                return clipSearch(UnsafePointer(buf.baseAddress!), count: count, xmin: xmin, xmax: xmax, base: base)
            }
        }
        return clipSearch(x, count: count, xmin: xmin, xmax: xmax, base: base)
    }

    /// The reference's `gptq_mse` loop: scales shrunk by p = 1, 0.99, ... (grid steps down to
    /// 1 - maxShrink), each scored by Σ|q(x) - x|^norm; the first strictly smaller error wins. The error
    /// sum is a SIMD kernel (|d|^norm as exp(norm·ln d), ~1e-6 relative to powf; before stop 20 a scalar
    /// powf loop, a third of a short quantize run) that stops as soon as a candidate cannot win.
    private func clipSearch(_ x: UnsafePointer<Float>, count: Int, xmin: Float, xmax: Float, base: Float) -> Float {
        var best = Float.infinity
        var bestScale = base
        let steps = Int(maxShrink * Double(grid))
        for i in 0..<steps {
            let p = Float(1 - Double(i) / Double(grid))
            let s = scaleFrom(xmin: p * xmin, xmax: p * xmax)
            let err = VectorOps.gridErrorPow(x, count: count, scale: s, lo: minLevel, hi: maxLevel, power: norm, bound: best)
            if err < best { best = err; bestScale = s } // first strictly better wins
        }
        return bestScale
    }

    @inline(__always)
    private func scaleFrom(xmin: Float, xmax: Float) -> Float {
        granularity == .perChannel ? xmax / 7 : (xmax - xmin) / 15
    }
}
