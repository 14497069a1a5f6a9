import Foundation
import QQQKernels

/// The quantizer's only dense matrix product, kept behind one function so it can later be routed
/// to the SIMD `Gemm.sgemm` of QQQKernels without touching the algorithms.
/// Plain cache-blocked fp32 loops: a 4x8 register tile (SIMD8 = two SSE registers on the
/// baseline x86-64 target), B panels sized for L2, rows split across threads.
enum QuantMatrixOps {
    /// C[m x n] += alpha * A[m x k] * B[k x n]; all row-major with leading dimensions (elements).
    static func gemm(m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m <= 0 || n <= 0 || k <= 0 { return }
        if alpha == 1 {
            Gemm.sgemm(m: m, n: n, k: k, a: a, lda: lda, b: UnsafeRawPointer(b), ldb: ldb, bType: .f32, bLayout: .kn,
                       c: c, ldc: ldc, accumulate: true)
            return
        }
        // alpha folded into a scaled copy of A (A is the small operand in GPTQ's update).
        var scaled = [Float](repeating: 0, count: m * k)
        for i in 0..<m { for p in 0..<k { scaled[i * k + p] = alpha * a[i * lda + p] } }
        scaled.withUnsafeBufferPointer { sa in
            Gemm.sgemm(m: m, n: n, k: k, a: sa.baseAddress!, lda: k, b: UnsafeRawPointer(b), ldb: ldb, bType: .f32,
                       bLayout: .kn, c: c, ldc: ldc, accumulate: true)
        }
    }

    /// The former portable loops, kept as the scalar reference of `gemm` for tests.
    static func gemmReference(m: Int, n: Int, k: Int, alpha: Float,
                              a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m <= 0 || n <= 0 || k <= 0 { return }
        let kc = 128, nc = 512
        var p0 = 0
        while p0 < k {
            let pk = min(kc, k - p0)
            var j0 = 0
            while j0 < n {
                let jn = min(nc, n - j0)
                panel(rows: 0..<m, j0: j0, jn: jn, p0: p0, pk: pk, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
                j0 += jn
            }
            p0 += pk
        }
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// One (rows x jn) slab of C updated with the k-range [p0, p0+pk).
    private static func panel(rows: Range<Int>, j0: Int, jn: Int, p0: Int, pk: Int, alpha: Float,
                              a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int) {
        let bp = b + p0 * ldb + j0
        var i = rows.lowerBound
        let jv = jn & ~7
        while i + 4 <= rows.upperBound {
            let a0 = a + i * lda + p0, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
            let c0 = c + i * ldc + j0, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc
            var j = 0
            while j < jv {
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                var bq = bp + j
                for p in 0..<pk {
                    let bv = load8(bq)
                    s0 += a0[p] * bv
                    s1 += a1[p] * bv
                    s2 += a2[p] * bv
                    s3 += a3[p] * bv
                    bq += ldb
                }
                store8(load8(c0 + j) + alpha * s0, c0 + j)
                store8(load8(c1 + j) + alpha * s1, c1 + j)
                store8(load8(c2 + j) + alpha * s2, c2 + j)
                store8(load8(c3 + j) + alpha * s3, c3 + j)
                j += 8
            }
            if jv < jn {
                for r in 0..<4 {
                    scalarTail(ar: a + (i + r) * lda + p0, bp: bp, ldb: ldb, pk: pk,
                               cr: c + (i + r) * ldc + j0, from: jv, to: jn, alpha: alpha)
                }
            }
            i += 4
        }
        while i < rows.upperBound {
            let ar = a + i * lda + p0
            let cr = c + i * ldc + j0
            var j = 0
            while j < jv {
                var s = SIMD8<Float>()
                var bq = bp + j
                for p in 0..<pk {
                    s += ar[p] * load8(bq)
                    bq += ldb
                }
                store8(load8(cr + j) + alpha * s, cr + j)
                j += 8
            }
            scalarTail(ar: ar, bp: bp, ldb: ldb, pk: pk, cr: cr, from: jv, to: jn, alpha: alpha)
            i += 1
        }
    }

    @inline(__always)
    private static func scalarTail(ar: UnsafePointer<Float>, bp: UnsafePointer<Float>, ldb: Int, pk: Int,
                                   cr: UnsafeMutablePointer<Float>, from: Int, to: Int, alpha: Float) {
        if from >= to { return }
        for j in from..<to {
            var s: Float = 0
            for p in 0..<pk { s += ar[p] * bp[p * ldb + j] }
            cr[j] += alpha * s
        }
    }
}
