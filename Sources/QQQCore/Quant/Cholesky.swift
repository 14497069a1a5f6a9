import Foundation

/// Cholesky factorisations in Double (row-major n x n). Failure (matrix not positive definite,
/// or non-finite input) is reported as nil, never a crash, so GPTQ can raise its damping.
public enum Cholesky {
    /// Lower factor L with A = L Lᵀ (entries above the diagonal are zero), or nil if A is not PD.
    /// Blocked right-looking form: the O(n³) part is a "C -= A·Bᵀ" product whose operands are
    /// both contiguous along the summation index.
    public static func lower(_ a: [Double], n: Int) -> [Double]? {
        guard n >= 0, a.count == n * n else { return nil }
        var l = a
        let ok = l.withUnsafeMutableBufferPointer { factorInPlace($0.baseAddress!, n: n) }
        return ok ? l : nil
    }

    /// Upper factor R with A = Rᵀ R (torch `cholesky(A, upper=True)`), or nil.
    public static func upper(_ a: [Double], n: Int) -> [Double]? {
        guard let l = lower(a, n: n) else { return nil }
        return transposed(l, n: n)
    }

    /// A⁻¹ from the lower factor of A (torch `cholesky_inverse`): A⁻¹ = L⁻ᵀ L⁻¹.
    public static func inverse(fromLower l: [Double], n: Int) -> [Double] {
        let li = lowerInverse(l, n: n)
        var out = [Double](repeating: 0, count: n * n)
        // out[i][j] = Σ_{p >= max(i,j)} Li[p][i] * Li[p][j]
        for p in 0..<n {
            for i in 0...p {
                let v = li[p * n + i]
                if v == 0 { continue }
                for j in 0...p { out[i * n + j] += v * li[p * n + j] }
            }
        }
        return out
    }

    /// U upper with H⁻¹ = Uᵀ U, i.e. torch `cholesky(cholesky_inverse(cholesky(H)), upper=True)`,
    /// or nil if H is not positive definite. Computed without forming H⁻¹: if J reverses the
    /// index order and J H J = M Mᵀ (M lower), then H = R Rᵀ with R = J M J upper, and
    /// H⁻¹ = R⁻ᵀ R⁻¹, so U = R⁻¹ = J M⁻¹ J (unique: positive diagonal). One factorisation plus
    /// one triangular inverse (2/3 n³) instead of three O(n³) steps (~4/3 n³).
    public static func upperFactorOfInverse(_ h: [Double], n: Int) -> [Double]? {
        guard n >= 0, h.count == n * n else { return nil }
        return upperFactorOfInverse(consuming: h, n: n)
    }

    /// The same, reusing `h`'s storage (the caller's last reference to it). J A J reverses the index
    /// order of both axes, which on a row-major n x n array is reversing the flat array.
    public static func upperFactorOfInverse(consuming h: consuming [Double], n: Int) -> [Double]? {
        guard n >= 0, h.count == n * n else { return nil }
        var r = consume h
        r.reverse()
        let ok = r.withUnsafeMutableBufferPointer { factorInPlace($0.baseAddress!, n: n) }
        if !ok { return nil }
        var u = lowerInverse(r, n: n)
        r = []
        u.reverse()
        return u
    }

    /// Inverse of a lower-triangular matrix with non-zero diagonal (columns solved in parallel).
    public static func lowerInverse(_ l: [Double], n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        if n == 0 { return out }
        l.withUnsafeBufferPointer { lb in
            out.withUnsafeMutableBufferPointer { ob in
                let lp = lb.baseAddress!
                let op = ob.baseAddress!
                let colBlocks = (n + 3) / 4
                let work: (Int) -> Void = { cb in
                    // Solve L x = e_j for 4 columns at once; x kept as column-major scratch in out's
                    // transpose position is awkward, so use a small local buffer per block.
                    let j0 = cb * 4
                    let jn = min(4, n - j0)
                    var x = [Double](repeating: 0, count: 4 * n)
                    x.withUnsafeMutableBufferPointer { xb in
                        let xp = xb.baseAddress!
                        for c in 0..<jn {
                            let j = j0 + c
                            xp[c * n + j] = 1 / lp[j * n + j]
                        }
                        // rows i from j0+1: x_c[i] = -(Σ_{p=j_c}^{i-1} L[i][p] x_c[p]) / L[i][i]
                        for i in (j0 + 1)..<max(j0 + 1, n) {
                            let row = lp + i * n
                            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                            // x_c[p] is zero for p < j0 + c, so summing from j0 is exact.
                            var p = j0
                            let x0 = xp, x1 = xp + n, x2 = xp + 2 * n, x3 = xp + 3 * n
                            while p < i {
                                let v = row[p]
                                s0 += v * x0[p]; s1 += v * x1[p]; s2 += v * x2[p]; s3 += v * x3[p]
                                p += 1
                            }
                            let d = row[i]
                            if i > j0 { x0[i] = -s0 / d }
                            if jn > 1 && i > j0 + 1 { x1[i] = -s1 / d }
                            if jn > 2 && i > j0 + 2 { x2[i] = -s2 / d }
                            if jn > 3 && i > j0 + 3 { x3[i] = -s3 / d }
                        }
                        for c in 0..<jn {
                            let j = j0 + c
                            for i in j..<n { op[i * n + j] = xp[c * n + i] }
                        }
                    }
                }
                if n >= 64 {
                    DispatchQueue.concurrentPerform(iterations: colBlocks, execute: work)
                } else {
                    for cb in 0..<colBlocks { work(cb) }
                }
            }
        }
        return out
    }

    public static func transposed(_ a: [Double], n: Int) -> [Double] {
        var t = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { t[j * n + i] = a[i * n + j] } }
        return t
    }

    /// In-place lower factorisation of a (row-major); zeroes the strict upper triangle.
    static func factorInPlace(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        let nb = 64
        var j0 = 0
        while j0 < n {
            let jb = min(nb, n - j0)
            // Panel columns [j0, j0+jb), rows [j0, n): subtract the contribution of columns [0, j0).
            if j0 > 0 { panelUpdate(a, n: n, j0: j0, jb: jb) }
            // Unblocked factorisation of the panel.
            for j in j0..<(j0 + jb) {
                let rj = a + j * n
                var d = rj[j]
                for p in j0..<j { d -= rj[p] * rj[p] }
                if !(d > 0) || !d.isFinite { return false }
                let djj = d.squareRoot()
                rj[j] = djj
                for i in (j + 1)..<max(j + 1, n) {
                    let ri = a + i * n
                    var s = ri[j]
                    for p in j0..<j { s -= ri[p] * rj[p] }
                    ri[j] = s / djj
                }
            }
            j0 += jb
        }
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { a[i * n + j] = 0 } }
        return true
    }

    @inline(__always)
    private static func pick(_ t: (Double, Double, Double, Double, Double, Double, Double, Double), _ i: Int) -> Double {
        switch i {
        case 0: return t.0
        case 1: return t.1
        case 2: return t.2
        case 3: return t.3
        case 4: return t.4
        case 5: return t.5
        case 6: return t.6
        default: return t.7
        }
    }

    /// A[i][j0+c] -= Σ_{p<j0} L[i][p] * L[j0+c][p] for i in [j0, n), c in [0, jb); rows in parallel.
    private static func panelUpdate(_ a: UnsafeMutablePointer<Double>, n: Int, j0: Int, jb: Int) {
        let rows = n - j0
        let rowBlocks = (rows + 3) / 4
        let chunks = rows * j0 * jb > 1 << 16 ? min(rowBlocks, 16) : 1
        let per = (rowBlocks + chunks - 1) / chunks
        let work: (Int) -> Void = { ch in
            let b0 = ch * per, b1 = min(rowBlocks, b0 + per)
            if b0 >= b1 { return }
            for blk in b0..<b1 {
                let i0 = j0 + blk * 4
                let ib = min(4, n - i0)
                var c = 0
                while c < jb {
                    let cn = min(2, jb - c)
                    // 4 x 2 dot products, two-wide accumulators along p.
                    let q0 = a + (j0 + c) * n
                    let q1 = cn > 1 ? q0 + n : q0
                    let r0 = a + i0 * n
                    let r1 = ib > 1 ? r0 + n : r0
                    let r2 = ib > 2 ? r0 + 2 * n : r0
                    let r3 = ib > 3 ? r0 + 3 * n : r0
                    var a00 = SIMD2<Double>(), a01 = SIMD2<Double>(), a10 = SIMD2<Double>(), a11 = SIMD2<Double>()
                    var a20 = SIMD2<Double>(), a21 = SIMD2<Double>(), a30 = SIMD2<Double>(), a31 = SIMD2<Double>()
                    var p = 0
                    while p + 2 <= j0 {
                        let b0v = SIMD2(q0[p], q0[p + 1]), b1v = SIMD2(q1[p], q1[p + 1])
                        let v0 = SIMD2(r0[p], r0[p + 1]), v1 = SIMD2(r1[p], r1[p + 1])
                        let v2 = SIMD2(r2[p], r2[p + 1]), v3 = SIMD2(r3[p], r3[p + 1])
                        a00 += v0 * b0v; a01 += v0 * b1v
                        a10 += v1 * b0v; a11 += v1 * b1v
                        a20 += v2 * b0v; a21 += v2 * b1v
                        a30 += v3 * b0v; a31 += v3 * b1v
                        p += 2
                    }
                    var s00 = a00.sum(), s01 = a01.sum(), s10 = a10.sum(), s11 = a11.sum()
                    var s20 = a20.sum(), s21 = a21.sum(), s30 = a30.sum(), s31 = a31.sum()
                    if p < j0 {
                        s00 += r0[p] * q0[p]; s01 += r0[p] * q1[p]
                        s10 += r1[p] * q0[p]; s11 += r1[p] * q1[p]
                        s20 += r2[p] * q0[p]; s21 += r2[p] * q1[p]
                        s30 += r3[p] * q0[p]; s31 += r3[p] * q1[p]
                    }
                    let sums = (s00, s01, s10, s11, s20, s21, s30, s31)
                    for r in 0..<ib {
                        let row = a + (i0 + r) * n + j0 + c
                        for cc in 0..<cn where j0 + c + cc <= i0 + r { row[cc] -= pick(sums, 2 * r + cc) }
                    }
                    c += cn
                }
            }
        }
        if chunks > 1 {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: work)
        } else {
            work(0)
        }
    }
}
