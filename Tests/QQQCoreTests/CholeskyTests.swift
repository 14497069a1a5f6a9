import Testing
@testable import QQQCore

@Suite struct CholeskyTests {
    @Test func knownThreeByThree() throws {
        let a: [Double] = [4, 12, -16, 12, 37, -43, -16, -43, 98]
        let l = try #require(Cholesky.lower(a, n: 3))
        #expect(l == [2, 0, 0, 6, 1, 0, -8, 5, 3])
        let u = try #require(Cholesky.upper(a, n: 3))
        #expect(u == [2, 6, -8, 0, 1, 5, 0, 0, 3])
        let inv = Cholesky.inverse(fromLower: l, n: 3)
        // A * A⁻¹ = I
        for i in 0..<3 {
            for j in 0..<3 {
                var s = 0.0
                for p in 0..<3 { s += a[i * 3 + p] * inv[p * 3 + j] }
                #expect(abs(s - (i == j ? 1 : 0)) < 1e-9)
            }
        }
    }

    @Test func notPositiveDefiniteIsReported() {
        #expect(Cholesky.lower([1, 2, 2, 1], n: 2) == nil)
        #expect(Cholesky.lower([0, 0, 0, 0], n: 2) == nil)
        #expect(Cholesky.lower([1, 0, 0, .nan], n: 2) == nil)
        #expect(Cholesky.upperFactorOfInverse([1, 2, 2, 1], n: 2) == nil)
        #expect(Cholesky.lower([1, 2, 3], n: 2) == nil) // wrong size
    }

    /// The direct U = chol(H⁻¹) (torch chain) agrees with the reversal route GPTQ uses, on
    /// sizes that take both the serial and the blocked/parallel paths.
    @Test(arguments: [5, 70, 150])
    func upperFactorOfInverseMatchesChain(n: Int) throws {
        var rng = QuantTestRNG(seed: UInt64(n))
        let b = (0..<(n * n)).map { _ in rng.normal() }
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<n { s += b[i * n + p] * b[j * n + p] }
                h[i * n + j] = s + (i == j ? 0.1 * Double(n) : 0)
            }
        }
        let l = try #require(Cholesky.lower(h, n: n))
        // L Lᵀ reproduces H
        var maxErr = 0.0
        for i in 0..<n {
            for j in 0...i {
                var s = 0.0
                for p in 0...j { s += l[i * n + p] * l[j * n + p] }
                maxErr = max(maxErr, abs(s - h[i * n + j]))
            }
        }
        #expect(maxErr < 1e-9 * Double(n))
        let chain = try #require(Cholesky.upper(Cholesky.inverse(fromLower: l, n: n), n: n))
        let fast = try #require(Cholesky.upperFactorOfInverse(h, n: n))
        var diff = 0.0, scale = 0.0
        for i in 0..<(n * n) {
            diff = max(diff, abs(chain[i] - fast[i]))
            scale = max(scale, abs(chain[i]))
        }
        #expect(diff <= 1e-9 * scale)
        for i in 0..<n { for j in 0..<i { #expect(fast[i * n + j] == 0) } }
    }
}
