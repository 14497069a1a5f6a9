import Testing
import Foundation
@testable import QQQCore

@Suite struct QuantWeightQuantizerTests {
    @Test func roundHalfEvenTies() {
        let r = WeightQuantizer.roundHalfEven
        #expect(r(0.5) == 0)
        #expect(r(1.5) == 2)
        #expect(r(2.5) == 2)
        #expect(r(-0.5) == 0)
        #expect(r(-1.5) == -2)
        #expect(r(-2.5) == -2)
        #expect(r(2.4999998) == 2)
        #expect(r(3.7) == 4)
        #expect(r(-7.5) == -8)
    }

    @Test func perChannelHandComputed() {
        // amax 3.5 -> scale 3.5/7 = 0.5; x/scale = 3.5, -7, 0.5, 1.5 -> RNE 4, -7, 0, 2.
        let row: [Float] = [1.75, -3.5, 0.25, 0.75]
        let q = WeightQuantizer(granularity: .perChannel)
        let s = row.withUnsafeBufferPointer { q.findScale($0.baseAddress!, count: 4) }
        #expect(s == 0.5)
        #expect(row.map { q.code($0, scale: s) } == [4, -7, 0, 2])
        #expect(q.code(100, scale: s) == 7)
        #expect(q.code(-100, scale: s) == -7) // per-channel never uses -8
    }

    @Test func perGroupHandComputed() {
        // xmin -7.5, xmax 7.5 -> scale 15/15 = 1; codes -7.5 -> -8 (tie to even), 1.25 -> 1, 2.5 -> 2.
        let row: [Float] = [-7.5, 1.25, 2.5, 0]
        let q = WeightQuantizer(granularity: .perGroup)
        let s = row.withUnsafeBufferPointer { q.findScale($0.baseAddress!, count: 4) }
        #expect(s == 1)
        #expect(row.map { q.code($0, scale: s) } == [-8, 1, 2, 0])
        #expect(q.code(9, scale: s) == 7)
        // A slice without negatives keeps xmin = 0: scale = amax/15 (reference rule), so large
        // positives clip at 7.
        let pos: [Float] = [3, 1]
        let sp = pos.withUnsafeBufferPointer { q.findScale($0.baseAddress!, count: 2) }
        #expect(abs(sp - 0.2) < 1e-7)
        #expect(q.code(3, scale: sp) == 7)
    }

    @Test func allZeroRow() {
        let row = [Float](repeating: 0, count: 8)
        let pc = WeightQuantizer(granularity: .perChannel)
        let pg = WeightQuantizer(granularity: .perGroup)
        let s1 = row.withUnsafeBufferPointer { pc.findScale($0.baseAddress!, count: 8) }
        let s2 = row.withUnsafeBufferPointer { pg.findScale($0.baseAddress!, count: 8) }
        #expect(s1 == Float(1) / 7)
        #expect(s2 == Float(2) / 15)
        #expect(pc.code(0, scale: s1) == 0)
        #expect(pg.code(0, scale: s2) == 0)
    }

    @Test func stridedMatchesContiguous() {
        var rng = QuantTestRNG(seed: 3)
        let m = rng.normals(40 * 3)
        let col = (0..<40).map { m[$0 * 3 + 1] }
        let q = WeightQuantizer(granularity: .perGroup, mse: true)
        let a = m.withUnsafeBufferPointer { q.findScale($0.baseAddress! + 1, count: 40, stride: 3) }
        let b = col.withUnsafeBufferPointer { q.findScale($0.baseAddress!, count: 40) }
        #expect(a == b)
    }

    @Test func mseSearchPicksBestShrink() {
        // One outlier: the clip search trades it for finer steps on the rest.
        var row: [Float] = [12]
        var rng = QuantTestRNG(seed: 1)
        row += rng.normals(127)
        for g in [WeightQuantizer.Granularity.perChannel, .perGroup] {
            let plain = WeightQuantizer(granularity: g)
            let mse = WeightQuantizer(granularity: g, mse: true)
            let s0 = row.withUnsafeBufferPointer { plain.findScale($0.baseAddress!, count: row.count) }
            let s1 = row.withUnsafeBufferPointer { mse.findScale($0.baseAddress!, count: row.count) }
            func err(_ s: Float) -> Float {
                row.reduce(0) { acc, x in
                    let d = abs(mse.quantize(x, scale: s) - x)
                    return acc + (d > 0 ? powf(d, 2.4) : 0)
                }
            }
            // Independent brute force over the same grid: first strictly better shrink.
            var best = Float.infinity, bestS = s0
            for i in 0..<80 {
                let p = Float(1 - Double(i) / 100)
                let s = g == .perChannel ? (p * 12) / 7 : (p * 12 - p * -12) / 15
                let e = err(s)
                if e < best { best = e; bestS = s }
            }
            #expect(s1 == bestS)
            #expect(s1 < s0)
            #expect(err(s1) < err(s0))
        }
    }
}
