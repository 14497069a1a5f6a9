import Foundation
import QQQKernels

/// Hadamard matrices of the orders the residual-stream rotation needs (QQQ-METHOD §3): n = K · 2^m with
/// K = 1 (Sylvester), or K built by Paley's constructions from a prime q (I: K = q + 1, q ≡ 3 mod 4;
/// II: K = 2(q + 1), q ≡ 1 mod 4). That covers 576 = 36 · 16 (SmolLM2), 896 and 3584 (28 · 2^m,
/// Qwen2), 5120 = 20 · 256 and every power of two. Any Hadamard matrix of the order is valid: the
/// rotation only has to be orthogonal, and outliers spread the same way.
enum Hadamard {
    /// A K × K matrix of ±1 with H Hᵀ = K I, row-major, for K built by Paley I or II; nil otherwise.
    static func paley(order k: Int) -> [Double]? {
        if k == 1 { return [1] }
        if k == 2 { return [1, 1, 1, -1] }
        if isPrime(k - 1), (k - 1) % 4 == 3 { return paleyI(q: k - 1) }
        if k % 2 == 0, isPrime(k / 2 - 1), (k / 2 - 1) % 4 == 1 { return paleyII(q: k / 2 - 1) }
        return nil
    }

    /// The split n = K · 2^m with the largest power of two for which K is constructible.
    static func factor(_ n: Int) -> (k: Int, pow2: Int)? {
        guard n > 0 else { return nil }
        var p = 1
        while n % (p * 2) == 0 { p *= 2 }
        while p >= 1 {
            if paley(order: n / p) != nil { return (n / p, p) }
            p /= 2
        }
        return nil
    }

    /// x := H x for the Sylvester Hadamard H of order n (a power of two, natural order), unnormalized.
    static func walshHadamard(_ x: UnsafeMutablePointer<Double>, count n: Int) {
        var len = 1
        while len < n {
            var i = 0
            while i < n {
                for j in i..<(i + len) {
                    let a = x[j], b = x[j + len]
                    x[j] = a + b
                    x[j + len] = a - b
                }
                i += 2 * len
            }
            len *= 2
        }
    }

    static func isPrime(_ q: Int) -> Bool {
        guard q >= 2 else { return false }
        var d = 2
        while d * d <= q { if q % d == 0 { return false }; d += 1 }
        return true
    }

    /// Quadratic character of a mod q: 0, 1 (a square) or -1.
    private static func chi(_ a: Int, _ q: Int) -> Double {
        let r = ((a % q) + q) % q
        if r == 0 { return 0 }
        var result = 1, base = r, e = (q - 1) / 2
        while e > 0 {
            if e & 1 == 1 { result = result * base % q }
            base = base * base % q
            e >>= 1
        }
        return result == 1 ? 1 : -1
    }

    /// Order q + 1: H = I + [[0, jᵀ], [-j, Q]] with Q the (antisymmetric) Jacobsthal matrix.
    private static func paleyI(q: Int) -> [Double] {
        let n = q + 1
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let s: Double
                if i == 0 { s = j == 0 ? 0 : 1 } else if j == 0 { s = -1 } else { s = chi(i - j, q) }
                h[i * n + j] = s + (i == j ? 1 : 0)
            }
        }
        return h
    }

    /// Order 2(q + 1): the symmetric conference matrix C = [[0, jᵀ], [j, Q]] with every 0 replaced by
    /// [[1, -1], [-1, -1]] and every ±1 by ±[[1, 1], [1, -1]].
    private static func paleyII(q: Int) -> [Double] {
        let c = q + 1, n = 2 * c
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<c {
            for j in 0..<c {
                let s: Double
                if i == 0 { s = j == 0 ? 0 : 1 } else if j == 0 { s = 1 } else { s = chi(i - j, q) }
                let block: [Double] = s == 0 ? [1, -1, -1, -1] : [s, s, s, -s]
                for a in 0..<2 { for b in 0..<2 { h[(2 * i + a) * n + 2 * j + b] = block[a * 2 + b] } }
            }
        }
        return h
    }
}

/// The orthogonal map T(u) = (H_K ⊗ H_S)(D u) / sqrt(n) on vectors of length n = K · S (S a power of
/// two, D a seeded diagonal of ±1): the transpose of QuaRot's Q = D Mᵀ / sqrt(n), so a row x of the
/// residual stream becomes xQ = T(x), input columns of a reading linear W become rows T(w), and the rows
/// of a writing linear (o_proj, down_proj) become QᵀW, column by column T(w). Computed in Double by a
/// fast Walsh–Hadamard transform of length S and a dense K × K product: n (log2 S + K) operations.
public struct HadamardRotation: Sendable {
    public let size: Int
    let k: Int
    let s: Int
    let hk: [Double]
    let signs: [Double]

    /// Throws for a size no built-in construction reaches.
    public init(size n: Int, seed: UInt64) throws {
        guard let (k, s) = Hadamard.factor(n), let hk = Hadamard.paley(order: k) else {
            throw QQQError.invalidInput("no Hadamard matrix of order \(n) is built in (sizes K * 2^m with K = 1, or q + 1 / 2(q + 1) for a prime q)")
        }
        size = n
        self.k = k
        self.s = s
        self.hk = hk
        var rng = SplitMix64(seed: seed ^ 0x5152_4F54_4154_4521)  // "QROTATE!": independent of the window sampling
        signs = (0..<n).map { _ in rng.next() >> 63 == 0 ? 1 : -1 }
    }

    /// u := T(u) in place.
    public func apply(_ u: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        let n = size
        for i in 0..<n { u[i] *= signs[i] }
        // H_S on each of the K rows of length S.
        for r in 0..<k { Hadamard.walshHadamard(u + r * s, count: s) }
        // H_K across the rows: out[a][b] = Σ_c H_K[a][c] u[c][b].
        let norm = 1 / Double(n).squareRoot()
        if k == 1 {
            for i in 0..<n { u[i] *= norm }
            return
        }
        hk.withUnsafeBufferPointer { h in
            for a in 0..<k {
                let out = scratch + a * s
                for b in 0..<s { out[b] = 0 }
                for c in 0..<k {
                    let w = h[a * k + c], row = u + c * s
                    for b in 0..<s { out[b] += w * row[b] }
                }
            }
        }
        for i in 0..<n { u[i] = scratch[i] * norm }
    }

    /// Every row of the row-major [rows][size] matrix m (row stride ld) replaced by T(row ⊙ columnScales):
    /// the scales fuse an RMSNorm weight into the linear that reads it (W diag(g) Q).
    public func rotateRows(_ m: UnsafeMutablePointer<Float>, rows: Int, ld: Int, columnScales: [Float]? = nil, threads: Int) {
        let n = size
        precondition(columnScales.map { $0.count == n } ?? true, "one scale per column")
        parallelRanges(rows, threads: threads, minPerThread: 16) { range in
            let buf = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
            defer { buf.deallocate() }
            for r in range {
                let row = m + r * ld
                if let g = columnScales {
                    for i in 0..<n { buf[i] = Double(row[i] * g[i]) }
                } else {
                    for i in 0..<n { buf[i] = Double(row[i]) }
                }
                apply(buf, scratch: buf + n)
                for i in 0..<n { row[i] = Float(buf[i]) }
            }
        }
    }

    /// Every column of the row-major [size][cols] matrix m replaced by T(column): QᵀW for a linear that
    /// writes the residual stream.
    public func rotateColumns(_ m: UnsafeMutablePointer<Float>, cols: Int, threads: Int) {
        let n = size
        parallelRanges(cols, threads: threads, minPerThread: 16) { range in
            let buf = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
            defer { buf.deallocate() }
            for c in range {
                for i in 0..<n { buf[i] = Double(m[i * cols + c]) }
                apply(buf, scratch: buf + n)
                for i in 0..<n { m[i * cols + c] = Float(buf[i]) }
            }
        }
    }
}
