import Foundation
@testable import QQQCore
import QQQKernels

/// Deterministic generator for quantisation tests (SplitMix64).
struct QuantTestRNG {
    var base: SplitMix64
    init(seed: UInt64) { base = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15) }
    mutating func next() -> UInt64 { base.next() }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { base.uniform() }
    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
    mutating func normals(_ count: Int, scale: Double = 1) -> [Float] {
        (0..<count).map { _ in Float(normal() * scale) }
    }
}

/// H = (2/n) ΣXᵀX from correlated random inputs: X = Z·M with a random mixing matrix, so columns
/// of X are strongly correlated (the case where GPTQ's error feedback matters).
func correlatedHessian(columns k: Int, tokens: Int, rng: inout QuantTestRNG) -> [Float] {
    let mix = rng.normals(k * k, scale: 1 / Double(k).squareRoot())
    let z = rng.normals(tokens * k)
    var x = [Float](repeating: 0, count: tokens * k)
    for t in 0..<tokens {
        for j in 0..<k {
            var s: Float = 0
            for p in 0..<k { s += z[t * k + p] * mix[p * k + j] }
            // A few columns with a larger scale, like activation outliers.
            x[t * k + j] = s * (j % 17 == 0 ? 4 : 1)
        }
    }
    let h = Hessian(columns: k)
    x.withUnsafeBufferPointer { h.add(x: $0.baseAddress!, tokens: tokens) }
    return h.matrix()
}
