import Foundation
import Testing
@testable import QQQKernels

@Suite("Vector ops vs scalar references")
struct VectorOpsTests {
    static let values: [Float] = {
        var rng = TestRNG(state: 42)
        return (0..<1001).map { _ in rng.float() * 12 }
    }()

    @Test func softmaxAndLogSumExp() {
        var x = Self.values
        let m = Double(x.max()!)
        let sum = x.reduce(0.0) { $0 + exp(Double($1) - m) }
        let lse = VectorOps.logSumExp(x, count: x.count)
        #expect(abs(Double(lse) - (m + log(sum))) < 1e-5)
        VectorOps.softmaxInPlace(&x, count: x.count)
        for (i, v) in x.enumerated() {
            let want = exp(Double(Self.values[i]) - m) / sum
            #expect(abs(Double(v) - want) < 1e-6 + want * 1e-5)
        }
    }

    /// The fused causal rows equal scaling then `softmaxInPlace` bit for bit, with zeros past each row's
    /// last key; rows of 1 to 37 valid keys (vector part and scalar tail), a block starting at i0 = 17.
    @Test func causalSoftmaxEqualsScaledSoftmax() {
        let rows = 21, i0 = 17, width = 40, ld = 43
        let scale: Float = 0.17
        var s = (0..<(rows * ld)).map { Self.values[$0 % Self.values.count] }
        var want = s
        for r in 0..<rows {
            let valid = min(width, i0 + r + 1)
            for j in 0..<valid { want[r * ld + j] *= scale }
            want.withUnsafeMutableBufferPointer { VectorOps.softmaxInPlace($0.baseAddress! + r * ld, count: valid) }
            for j in valid..<width { want[r * ld + j] = 0 }
        }
        VectorOps.causalSoftmax(&s, ld: ld, rows: rows, firstQuery: i0, width: width, scale: scale)
        #expect(s == want)
        var zeroRow = [Float](repeating: 1, count: 8)  // i0 = 0: one valid key, softmax 1, then zeros
        VectorOps.causalSoftmax(&zeroRow, ld: 8, rows: 1, firstQuery: 0, width: 8, scale: 1)
        #expect(zeroRow == [1, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func siluMul() {
        let g = Self.values, u = Self.values.reversed().map { $0 }
        var out = [Float](repeating: 0, count: g.count)
        VectorOps.siluMul(gate: g, up: u, out: &out, count: g.count)
        for i in 0..<g.count {
            let want = Double(g[i]) / (1 + exp(-Double(g[i]))) * Double(u[i])
            #expect(abs(Double(out[i]) - want) <= 1e-5 * max(1, abs(want)))
        }
    }

    @Test func rmsNorm() {
        let x = Self.values
        let w = (0..<x.count).map { Float($0 % 7) * 0.25 }
        var out = [Float](repeating: 0, count: x.count)
        w.withUnsafeBytes { wp in
            VectorOps.rmsNorm(x: x, weight: wp.baseAddress!, weightType: .f32, out: &out, count: x.count, eps: 1e-5)
        }
        let inv = 1 / (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count) + 1e-5).squareRoot()
        for i in 0..<x.count { #expect(abs(Double(out[i]) - Double(x[i]) * inv * Double(w[i])) < 1e-5) }
    }

    @Test func halfConversionsAreExact() {
        // Every finite half, infinities and a NaN round-trip through f16 -> f32 -> f16.
        let bits = (0..<65536).map { UInt16($0) }
        var floats = [Float](repeating: 0, count: bits.count)
        VectorOps.f16ToF32(bits, &floats, count: bits.count)
        for (b, f) in zip(bits, floats) {
            let want = Float(Float16(bitPattern: b))
            #expect(f.bitPattern == want.bitPattern || (f.isNaN && want.isNaN))
        }
        var back = [UInt16](repeating: 0, count: bits.count)
        VectorOps.f32ToF16(floats, &back, count: floats.count)
        for (b, r) in zip(bits, back) where !Float16(bitPattern: b).isNaN { #expect(b == r) }
        // Round to nearest even at a tie: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
        var tie: [UInt16] = [0]
        VectorOps.f32ToF16([1 + 1.0 / 2048], &tie, count: 1)
        #expect(tie[0] == Float16(1).bitPattern)
        let bf: [UInt16] = [0x3F80, 0xC000, 0x7F80]
        var bff = [Float](repeating: 0, count: 3)
        VectorOps.bf16ToF32(bf, &bff, count: 3)
        #expect(bff == [1, -2, .infinity])
    }

    /// The clip-search error sum against a Double reference (|d|^2.4 by pow) on every float path, at
    /// counts around the 8- and 32-wide blocks; an early stop returns a value at or above the bound
    /// and never stops below it.
    @Test func gridErrorPowMatchesReference() {
        var rng = TestRNG(state: 7)
        let paths = CPUFeatures.host.supportedPaths.filter { $0 == .avx512 || $0 == .avx2 || $0 == .portable }
        for count in [1, 7, 8, 31, 32, 33, 64, 128, 577] {
            let x = (0..<count).map { _ in (rng.float() - 0.5) * 0.2 }
            for (scale, lo, hi) in [(Float(0.013), Float(-8), Float(7)), (0.004, -7, 7), (0.05, -8, 7)] {
                var want = 0.0
                for v in x {
                    let c = min(Double(hi), max(Double(lo), Double(v / scale))).rounded(.toNearestOrEven)
                    let d = abs(Double(scale * Float(c) - v))
                    if d > 0 { want += pow(d, 2.4) }
                }
                for path in paths {
                    let got = Double(VectorOps.gridErrorPow(x, count: count, scale: scale, lo: lo, hi: hi, power: 2.4, path: path))
                    #expect(abs(got - want) <= 2e-6 * want + 1e-30, "count \(count) scale \(scale) \(path): \(got) vs \(want)")
                    let stopped = Double(VectorOps.gridErrorPow(x, count: count, scale: scale, lo: lo, hi: hi, power: 2.4,
                                                                bound: Float(want * 0.5), path: path))
                    #expect(stopped >= want * 0.5, "an early stop is not below the bound")
                }
            }
        }
        // Values exactly on the grid add nothing (not exp(ln 0)).
        let onGrid: [Float] = [0, 0.5, -1, 3.5, -4]
        for path in paths { #expect(VectorOps.gridErrorPow(onGrid, count: 5, scale: 0.5, lo: -8, hi: 7, power: 2.4, path: path) == 0) }
    }
}
