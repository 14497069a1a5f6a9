import Foundation
import Testing
@testable import QQQKernels

/// The fused causal attention kernel on every float path the CPU has, against a Double reference:
/// one block of query rows at an offset (i0 > 0: the keys before the block), rows not a multiple of the
/// tile, key counts across the 64-key block and the 16-key strip, head dimensions that are not a
/// multiple of 16, and strided q/out rows.
@Suite("Fused causal attention kernel vs scalar reference")
struct AttentionKernelTests {
    static let paths = GemmTests.paths

    /// (tokens, first query, rows, head dim)
    @Test(arguments: [(1, 0, 1, 16), (7, 0, 7, 8), (70, 0, 70, 64), (200, 57, 13, 64), (300, 130, 170, 40),
                      (129, 128, 1, 128), (65, 3, 62, 17)])
    func matchesReference(shape: (Int, Int, Int, Int)) {
        let (tokens, i0, rows, d) = shape
        var rng = TestRNG(state: UInt64(tokens * 977 + i0 * 31 + rows * 7 + d))
        let ldq = d + 3, ldkv = d + 5, ldo = d + 2
        let q = (0..<(rows * ldq)).map { _ in rng.float() * 3 }
        let k = (0..<(tokens * ldkv)).map { _ in rng.float() * 3 }
        let v = (0..<(tokens * ldkv)).map { _ in rng.float() }
        let scale = 1 / Float(d).squareRoot()
        var want = [Double](repeating: 0, count: rows * d)
        for r in 0..<rows {
            let t = i0 + r
            let s = (0...t).map { j in
                (0..<d).reduce(0.0) { $0 + Double(q[r * ldq + $1]) * Double(k[j * ldkv + $1]) } * Double(scale)
            }
            let mx = s.max()!
            let e = s.map { Foundation.exp($0 - mx) }
            let sum = e.reduce(0, +)
            for c in 0..<d { want[r * d + c] = (0...t).reduce(0.0) { $0 + e[$1] / sum * Double(v[$1 * ldkv + c]) } }
        }
        for path in Self.paths {
            var pk = [Float](repeating: .nan, count: Gemm.packedCount(n: tokens, k: d))
            var pv = [Float](repeating: .nan, count: Gemm.packedCount(n: d, k: tokens))
            k.withUnsafeBytes { Gemm.pack($0.baseAddress!, type: .f32, layout: .nk, n: tokens, k: d, ldb: ldkv, into: &pk, path: path) }
            v.withUnsafeBytes { Gemm.pack($0.baseAddress!, type: .f32, layout: .kn, n: d, k: tokens, ldb: ldkv, into: &pv, path: path) }
            var scratch = [Float](repeating: .nan, count: AttentionKernel.scratchFloats(rows: rows, headDim: d))
            var out = [Float](repeating: .nan, count: rows * ldo)
            AttentionKernel.causal(rows: rows, firstQuery: i0, headDim: d, q: q, ldq: ldq, packedK: pk, packedV: pv, ldv: tokens,
                                   scale: scale, out: &out, ldo: ldo, scratch: &scratch, path: path)
            var err = 0.0
            for r in 0..<rows { for c in 0..<d { err = max(err, abs(Double(out[r * ldo + c]) - want[r * d + c])) } }
            #expect(err < 2e-6, "path \(path) tokens \(tokens) i0 \(i0) rows \(rows) d \(d): max error \(err)")
            // The row padding stays untouched.
            for r in 0..<rows { for c in d..<ldo { #expect(out[r * ldo + c].isNaN) } }
        }
    }

    /// Scores far apart (a key that dominates, then one that dominates it in a later key block): the
    /// online softmax's rescaling must not overflow or lose the earlier keys' share.
    @Test func largeScoresAcrossKeyBlocks() {
        let tokens = 150, d = 16
        var k = [Float](repeating: 0, count: tokens * d), v = [Float](repeating: 0, count: tokens * d)
        for j in 0..<tokens { v[j * d] = Float(j) }
        k[5 * d] = 40; k[100 * d] = 41  // with q[0] = 2 and scale 1/4: scores 20 and 20.5
        let q = (0..<d).map { $0 == 0 ? Float(2) : 0 }
        for path in Self.paths {
            var pk = [Float](repeating: 0, count: Gemm.packedCount(n: tokens, k: d))
            var pv = [Float](repeating: 0, count: Gemm.packedCount(n: d, k: tokens))
            k.withUnsafeBytes { Gemm.pack($0.baseAddress!, type: .f32, layout: .nk, n: tokens, k: d, ldb: d, into: &pk, path: path) }
            v.withUnsafeBytes { Gemm.pack($0.baseAddress!, type: .f32, layout: .kn, n: d, k: tokens, ldb: d, into: &pv, path: path) }
            var scratch = [Float](repeating: 0, count: AttentionKernel.scratchFloats(rows: 1, headDim: d))
            var out = [Float](repeating: 0, count: d)
            AttentionKernel.causal(rows: 1, firstQuery: tokens - 1, headDim: d, q: q, ldq: d, packedK: pk, packedV: pv, ldv: tokens,
                                   scale: 0.25, out: &out, ldo: d, scratch: &scratch, path: path)
            // Weights: e^20 for key 5, e^20.5 for key 100, 1 for the 148 others.
            let (a, b) = (exp(20.0), exp(20.5))
            let sumOthers = Double((0..<tokens).reduce(0) { $0 + $1 }) - 5 - 100
            let want = (a * 5 + b * 100 + sumOthers) / (a + b + Double(tokens - 2))
            #expect(abs(Double(out[0]) - want) < 1e-4, "path \(path): \(out[0]) vs \(want)")
        }
    }
}
