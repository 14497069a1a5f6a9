import Foundation

/// Per-channel activation statistics for adaptive smoothing (QQQ-METHOD 2.2), accumulated over
/// any number of token batches: cmax/cmin per channel, gmax = max(max A, 0), gmin = min(min A, 0).
public struct SmoothChannelStats: Sendable, Equatable {
    public let channels: Int
    public private(set) var cmax: [Float]
    public private(set) var cmin: [Float]
    public private(set) var tokens: Int = 0

    public init(channels: Int) {
        self.channels = channels
        cmax = [Float](repeating: -.infinity, count: channels)
        cmin = [Float](repeating: .infinity, count: channels)
    }

    /// Adds `tokens` rows of `x` ([tokens x channels], row-major).
    public mutating func add(x: UnsafePointer<Float>, tokens t: Int) {
        let c = channels
        cmax.withUnsafeMutableBufferPointer { mx in
            cmin.withUnsafeMutableBufferPointer { mn in
                for r in 0..<t {
                    let row = x + r * c
                    for j in 0..<c {
                        let v = row[j]
                        mx[j] = max(mx[j], v)
                        mn[j] = min(mn[j], v)
                    }
                }
            }
        }
        tokens += max(0, t)
    }

    /// The statistics of o_proj's input (heads x headDim channels) folded onto v_proj's output rows
    /// (kvHeads x headDim): the query heads that read one KV head share its channel's scale, so each
    /// kv channel takes the extremes over them. With as many KV heads as heads it is the identity.
    public func sharedAcrossHeads(heads: Int, kvHeads: Int, headDim d: Int) -> SmoothChannelStats {
        precondition(heads * d == channels && kvHeads > 0 && heads % kvHeads == 0)
        var out = SmoothChannelStats(channels: kvHeads * d)
        let group = heads / kvHeads
        for h in 0..<heads {
            for j in 0..<d {
                let kv = (h / group) * d + j
                out.cmax[kv] = max(out.cmax[kv], cmax[h * d + j])
                out.cmin[kv] = min(out.cmin[kv], cmin[h * d + j])
            }
        }
        out.tokens = tokens
        return out
    }

    public var gmax: Float { max(cmax.max() ?? 0, 0) }
    public var gmin: Float { min(cmin.min() ?? 0, 0) }
}

/// The "os+" threshold schedule and the scales a threshold implies (QQQ-METHOD 2.3).
public enum SmoothThresholds {
    /// Candidates from t = bound down to 0.1 in steps of (bound - 0.1)/num,
    /// num = max(100, Int(gmax / 0.5)). The first candidate (t = bound) means "no smoothing".
    /// A bound below 0.1 (reference: no candidate at all) yields just [bound].
    public static func candidates(gmax: Float, gmin: Float) -> [Double] {
        let bound = max(-Double(gmin), Double(gmax))
        let num = max(100, Int(Double(gmax) / 0.5))
        let step = (bound - 0.1) / Double(num)
        var out: [Double] = []
        var t = bound
        while t >= 0.1 {
            out.append(t)
            if step <= 0 { break }
            t -= step
        }
        return out.isEmpty ? [bound] : out
    }

    /// s[c] = max(1, cmax[c]/t, -cmin[c]/t): only channels beyond [-t, t] are scaled, exactly to ±t.
    public static func scales(_ stats: SmoothChannelStats, threshold t: Double) -> [Float] {
        let tf = Float(t)
        var s = [Float](repeating: 1, count: stats.channels)
        for c in 0..<stats.channels {
            s[c] = max(1, stats.cmax[c] / tf, -stats.cmin[c] / tf)
        }
        return s
    }
}
