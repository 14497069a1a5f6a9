import Foundation
import Testing
import QQQKernels
@testable import QQQCore

/// Causal GQA attention (K and V packed once per call, query blocks of 128 rows) against a plain
/// Double implementation: several heads per KV head, token counts below, at and across the block size.
@Suite("Causal attention vs scalar reference")
struct AttentionTests {
    @Test(arguments: [(1, 4, 2, 16), (37, 4, 2, 64), (128, 3, 1, 32), (300, 6, 2, 64)])
    func matchesReference(shape: (Int, Int, Int, Int)) {
        let (tokens, heads, kvHeads, d) = shape
        var rng = SplitMix64(seed: UInt64(tokens * 131 + heads * 7 + d))
        let (ldq, ldkv) = (heads * d, kvHeads * d)
        let q = (0..<(tokens * ldq)).map { _ in rng.nextSigned() * 2 }
        let k = (0..<(tokens * ldkv)).map { _ in rng.nextSigned() * 2 }
        let v = (0..<(tokens * ldkv)).map { _ in rng.nextSigned() }
        var want = [Double](repeating: 0, count: tokens * ldq)
        let scale = 1 / Double(d).squareRoot()
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            for t in 0..<tokens {
                var s = [Double](repeating: 0, count: t + 1)
                for j in 0...t {
                    var dot = 0.0
                    for c in 0..<d { dot += Double(q[t * ldq + h * d + c]) * Double(k[j * ldkv + g * d + c]) }
                    s[j] = dot * scale
                }
                let mx = s.max()!
                let e = s.map { Foundation.exp($0 - mx) }
                let sum = e.reduce(0, +)
                for c in 0..<d {
                    var o = 0.0
                    for j in 0...t { o += e[j] / sum * Double(v[j * ldkv + g * d + c]) }
                    want[t * ldq + h * d + c] = o
                }
            }
        }
        for threads in [1, 2] {
            let attention = CausalAttention(heads: heads, kvHeads: kvHeads, headDim: d)
            var out = [Float](repeating: .nan, count: tokens * ldq)
            // Twice with the same object: the packed K/V buffers are reused across calls.
            for _ in 0..<2 {
                q.withUnsafeBufferPointer { qp in
                    k.withUnsafeBufferPointer { kp in
                        v.withUnsafeBufferPointer { vp in
                            out.withUnsafeMutableBufferPointer { op in
                                attention.run(q: qp.baseAddress!, ldq: ldq, k: kp.baseAddress!, v: vp.baseAddress!, ldkv: ldkv,
                                              out: op.baseAddress!, ldo: ldq, tokens: tokens, threads: threads)
                            }
                        }
                    }
                }
            }
            let err = zip(out, want).map { abs(Double($0) - $1) }.max()!
            #expect(err < 1e-5, "tokens \(tokens) heads \(heads)/\(kvHeads) d \(d) threads \(threads): \(err)")
        }
    }
}
