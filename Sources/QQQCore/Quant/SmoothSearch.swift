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

    /// Coarse-to-fine: every `stride`-th candidate (and the last), then every candidate within
    /// `stride` of the coarse winner. Exact when the loss is unimodal at that resolution; about
    /// n/stride + 2*stride evaluations instead of n. Ties resolve to the earlier candidate, as in
    /// `search`.
    public static func coarseToFine(candidates: [Double], stride: Int = 8,
                                    loss: (Double) throws -> Double) rethrows -> Outcome? {
        let n = candidates.count
        if n == 0 { return nil }
        let st = max(1, stride)
        var cache = [Double?](repeating: nil, count: n)
        var evaluations = 0
        func eval(_ i: Int) throws -> Double {
            if let v = cache[i] { return v }
            let v = try loss(candidates[i])
            cache[i] = v
            evaluations += 1
            return v
        }
        var coarse = Array(Swift.stride(from: 0, to: n, by: st))
        if coarse.last != n - 1 { coarse.append(n - 1) }
        var bestIndex = coarse[0]
        var bestLoss = try eval(bestIndex)
        for i in coarse.dropFirst() {
            let l = try eval(i)
            if l < bestLoss { bestLoss = l; bestIndex = i }
        }
        let lo = max(0, bestIndex - st + 1), hi = min(n - 1, bestIndex + st - 1)
        for i in lo...hi { _ = try eval(i) }
        // Pick in candidate order among everything evaluated (first strictly better wins).
        var pick: (Int, Double)? = nil
        for i in 0..<n {
            if let l = cache[i], pick == nil || l < pick!.1 { pick = (i, l) }
        }
        let p = pick!
        return Outcome(threshold: candidates[p.0], index: p.0, loss: p.1, evaluations: evaluations)
    }
}
