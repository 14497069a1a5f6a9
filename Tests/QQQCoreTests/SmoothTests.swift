import Foundation
import Testing
@testable import QQQCore

@Suite struct SmoothTests {
    @Test func channelStatsHand() {
        var st = SmoothChannelStats(channels: 3)
        let a: [Float] = [1, -2, 0.5,
                          3, -1, 0.25]
        a.withUnsafeBufferPointer { st.add(x: $0.baseAddress!, tokens: 2) }
        let b: [Float] = [-4, 5, 0.75]
        b.withUnsafeBufferPointer { st.add(x: $0.baseAddress!, tokens: 1) }
        #expect(st.cmax == [3, 5, 0.75])
        #expect(st.cmin == [-4, -2, 0.25])
        #expect(st.gmax == 5 && st.gmin == -4)
        #expect(st.tokens == 3)
        // All-positive data: gmin clamps to 0.
        var p = SmoothChannelStats(channels: 1)
        [Float(2)].withUnsafeBufferPointer { p.add(x: $0.baseAddress!, tokens: 1) }
        #expect(p.gmin == 0 && p.gmax == 2)
    }

    /// o_proj's input channels (head q, dim j) folded onto v's rows (KV head q / group, dim j).
    @Test func statsSharedAcrossQueryHeads() {
        // 4 heads, 2 KV heads, head dim 2: heads 0, 1 read KV head 0; heads 2, 3 KV head 1.
        var st = SmoothChannelStats(channels: 8)
        let a: [Float] = [1, -2, 3, 0, -5, 1, 2, 2,
                          0, 4, -1, -6, 1, 0, 0, 7]
        a.withUnsafeBufferPointer { st.add(x: $0.baseAddress!, tokens: 2) }
        let kv = st.sharedAcrossHeads(heads: 4, kvHeads: 2, headDim: 2)
        #expect(kv.channels == 4 && kv.tokens == 2)
        #expect(kv.cmax == [3, 4, 2, 7])
        #expect(kv.cmin == [-1, -6, -5, 0])
        // As many KV heads as heads: unchanged.
        #expect(st.sharedAcrossHeads(heads: 4, kvHeads: 4, headDim: 2) == st)
    }

    @Test func candidateSchedule() {
        // gmax 20, gmin -30: bound 30, num = max(100, 40) = 100, step = 29.9/100.
        let c = SmoothThresholds.candidates(gmax: 20, gmin: -30)
        #expect(c.first == 30)
        #expect(abs(c[1] - (30 - 0.299)) < 1e-12)
        #expect(c.count == 100 || c.count == 101) // float accumulation decides whether t = 0.1 is hit
        #expect(c.last! >= 0.1)
        // Large gmax: num = Int(gmax / 0.5) = 400.
        let big = SmoothThresholds.candidates(gmax: 200, gmin: -10)
        #expect(abs((big[0] - big[1]) - (199.9 / 400)) < 1e-9)
        #expect(big.count >= 400 && big.count <= 401)
        // Tiny bound: only the no-op candidate.
        #expect(SmoothThresholds.candidates(gmax: 0.0625, gmin: 0) == [0.0625])
    }

    @Test func scalesFromThreshold() {
        var st = SmoothChannelStats(channels: 4)
        let a: [Float] = [8, -1, 0.5, 3,
                          -2, 1, 0.25, -12]
        a.withUnsafeBufferPointer { st.add(x: $0.baseAddress!, tokens: 2) }
        #expect(SmoothThresholds.scales(st, threshold: 4) == [2, 1, 1, 3])
        #expect(SmoothThresholds.scales(st, threshold: 12) == [1, 1, 1, 1])
    }

    @Test func searchDrivers() {
        let cands = (0..<101).map { 10 - Double($0) * 0.099 }
        // Unimodal loss with minimum at index 37.
        let loss: (Double) -> Double = { t in let d = t - cands[37]; return d * d + 1 }
        let full = SmoothSearch.search(candidates: cands, loss: loss)!
        #expect(full.index == 37 && full.evaluations == 101)
        let fast = SmoothSearch.coarseToFine(candidates: cands, stride: 8, loss: loss)!
        #expect(fast.index == 37)
        #expect(fast.evaluations < 35)
        // Ties: the first (largest threshold) wins in both drivers.
        let flat = SmoothSearch.search(candidates: cands) { _ in 1 }!
        #expect(flat.index == 0)
        #expect(SmoothSearch.coarseToFine(candidates: cands) { _ in 1 }!.index == 0)
        // Best at the last candidate (not on the stride grid): still found.
        let edge = SmoothSearch.coarseToFine(candidates: cands, stride: 8) { t in t }!
        #expect(edge.index == 100)
        #expect(SmoothSearch.search(candidates: []) { $0 } == nil)
    }

    /// On any unimodal loss the narrowing search finds the full grid's minimum, wherever it lies,
    /// with far fewer evaluations; on a loss with two valleys it may not (so the test can fail).
    @Test func coarseToFineIsExactOnUnimodalLosses() {
        for n in [1, 2, 7, 101, 216, 1000] {
            let cands = (0..<n).map { Double(n - $0) }
            for best in 0..<n {
                let loss: (Double) -> Double = { t in let i = Double(n) - t; return abs(i - Double(best)) + 0.001 * i }
                let full = SmoothSearch.search(candidates: cands, loss: loss)!
                let fast = SmoothSearch.coarseToFine(candidates: cands, stride: 8, loss: loss)!
                #expect(fast.index == full.index, "n \(n), best \(best)")
                if n == 101 { #expect(fast.evaluations <= 24) }
                if n == 1000 { #expect(fast.evaluations <= 45) }
            }
        }
        // Two valleys: the narrow global minimum between coarse points is missed.
        let cands = (0..<101).map { Double(101 - $0) }
        let twoValleys: (Double) -> Double = { t in let i = 101 - t; return i == 45 ? -1 : abs(i - 80) }
        #expect(SmoothSearch.search(candidates: cands, loss: twoValleys)!.index == 45)
        #expect(SmoothSearch.coarseToFine(candidates: cands, stride: 8, loss: twoValleys)!.index == 80)
    }

    @Test func fakeQuantActivations() {
        // Token absmax 127 -> scale 1: values round half to even; all-zero token stays zero.
        var x: [Float] = [127, 2.5, -3.5, 0.4,
                          0, 0, 0, 0]
        FakeQuant.activationsPerToken(&x, channels: 4)
        #expect(x == [127, 2, -4, 0, 0, 0, 0, 0])
    }

    @Test func fakeQuantWeights() {
        // Row absmax 7 -> scale 1; per-slice (group 2): second slice absmax 0.7 -> scale 0.1.
        var w: [Float] = [7, 2.5, 0.7, -0.25]
        var g = w
        FakeQuant.weightsMinMax(&w, rows: 1, columns: 4)
        #expect(w == [7, 2, 1, 0])
        FakeQuant.weightsMinMax(&g, rows: 1, columns: 4, groupSize: 2)
        #expect(g[0] == 7 && g[1] == 2)
        #expect(abs(g[2] - 0.7) < 1e-6 && abs(g[3] - -0.2) < 1e-6)
        var z = [Float](repeating: 0, count: 4)
        FakeQuant.weightsMinMax(&z, rows: 2, columns: 2)
        #expect(z == [0, 0, 0, 0])
    }

    /// `--smooth-clip`: the candidate's weight scale comes from the clip search on the absmax/7 grid.
    /// 31 ones and one 7.5: absmax/7 = 1.0714 leaves every 1 off by 0.071 (Σ|d|^2.4 = 0.055); a scale
    /// near 1.05 trades a small error on 7.5 for smaller ones on the 1s (0.034), so the search shrinks.
    @Test func clipSearchedCandidateScale() {
        let row = [Float](repeating: 1, count: 31) + [7.5]
        func error(_ s: Float) -> Double {
            row.reduce(0.0) { $0 + pow(Double(abs(min(7, max(-7, ($1 / s).rounded(.toNearestOrEven))) * s - $1)), 2.4) }
        }
        let plain = row.withUnsafeBufferPointer { FakeQuant.minMaxScale($0.baseAddress!, count: 32, clip: false) }
        let clipped = row.withUnsafeBufferPointer { FakeQuant.minMaxScale($0.baseAddress!, count: 32, clip: true) }
        #expect(plain == 7.5 / 7)
        #expect(clipped < plain * 0.995)
        #expect(error(clipped) < 0.7 * error(plain))
        var w = row
        w.withUnsafeMutableBufferPointer { FakeQuant.weightsMinMax($0.baseAddress!, rows: 1, columns: 32, clip: true) }
        #expect(w[0] == 1 * clipped && w[31] == 7 * clipped)
    }

    /// Folding keeps the product unchanged: (x / s) · (W * s)ᵀ == x · Wᵀ.
    @Test func foldPreservesProduct() throws {
        var rng = QuantTestRNG(seed: 8)
        let x = rng.normals(5), w = rng.normals(3 * 5)
        let s: [Float] = [1, 2, 4, 0.5, 8]
        var xs = x, ws = w
        try SmoothFold.divide(&xs, by: s)
        try SmoothFold.scaleColumns(&ws, rows: 3, columns: 5, by: s)
        for r in 0..<3 {
            var a: Float = 0, b: Float = 0
            for c in 0..<5 { a += x[c] * w[r * 5 + c]; b += xs[c] * ws[r * 5 + c] }
            #expect(abs(a - b) < 1e-5)
        }
        var up = w
        try SmoothFold.divideRows(&up, rows: 3, columns: 5, by: [2, 4, 8])
        #expect(up[5] == w[5] / 4)
        #expect(throws: QQQError.self) { try SmoothFold.divide(&xs, by: [1]) }
    }
}
