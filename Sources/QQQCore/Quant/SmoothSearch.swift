import Foundation

/// Threshold search drivers (QQQ-METHOD 2.3). The loss closure runs the group's output
/// function on the candidate; the driver decides which candidates to evaluate.
public enum SmoothSearch {
    public struct Outcome: Sendable, Equatable {
        public let threshold: Double
        public let index: Int
        public let loss: Double
        public let evaluations: Int
    }

    /// Reference behaviour: every candidate in order, the first strictly smaller loss wins.
    public static func search(candidates: [Double], loss: (Double) throws -> Double) rethrows -> Outcome? {
        var best: (Int, Double)? = nil
        for (i, t) in candidates.enumerated() {
            let l = try loss(t)
            if best == nil || l < best!.1 { best = (i, l) }
        }
        guard let b = best else { return nil }
        return Outcome(threshold: candidates[b.0], index: b.0, loss: b.1, evaluations: candidates.count)
    }

    /// Coarse-to-fine: every `stride`-th candidate (at least n/12; and the last), then around the winner
    /// steps of half the remaining radius on each side, down to the neighbours. Exact when the loss is
    /// unimodal at that resolution: about n/stride + 2·log2(stride) evaluations (n = 101, stride 8: 20)
    /// instead of n. Ties resolve to the earlier candidate, as in `search`.
    public static func coarseToFine(candidates: [Double], stride: Int = 8,
                                    loss: (Double) throws -> Double) rethrows -> Outcome? {
        let n = candidates.count
        if n == 0 { return nil }
        var cache = [Double?](repeating: nil, count: n)
        var evaluations = 0
        func eval(_ i: Int) throws -> Double {
            if let v = cache[i] { return v }
            let v = try loss(candidates[i])
            cache[i] = v
            evaluations += 1
            return v
        }
        // First strictly better in candidate order among everything evaluated so far.
        func pick() -> (Int, Double) {
            var p: (Int, Double)? = nil
            for i in 0..<n { if let l = cache[i], p == nil || l < p!.1 { p = (i, l) } }
            return p!
        }
        // Long grids (a large activation maximum gives num = gmax/0.5 candidates) get a wider first
        // stride, so the first pass stays near a dozen evaluations.
        let st = max(1, stride, n / 12)
        var level = Array(Swift.stride(from: 0, to: n, by: st))
        if level.last != n - 1 { level.append(n - 1) }
        for i in level { _ = try eval(i) }
        // On a unimodal loss the minimum lies within r = st - 1 of the best grid point. Halving: the best
        // of (b - h, b, b + h) with h = ceil(r/2) leaves it within floor(r/2) of the new best, so two
        // evaluations per level reach the grid's minimum.
        var r = st - 1
        while r > 0 {
            let best = pick().0
            let h = (r + 1) / 2
            if best - h >= 0 { _ = try eval(best - h) }
            if best + h < n { _ = try eval(best + h) }
            r /= 2
        }
        let p = pick()
        return Outcome(threshold: candidates[p.0], index: p.0, loss: p.1, evaluations: evaluations)
    }
}
