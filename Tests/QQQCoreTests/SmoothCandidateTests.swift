import Foundation
import Testing
import QQQKernels
@testable import QQQCore

/// The integer-kernel evaluation of a smoothing candidate against the float fake quantization it
/// replaces: per-channel the same integers (so the same outputs up to fp32 summation order); per-group
/// the two-level form of the same codes.
@Suite("Smoothing candidates through the integer kernels")
struct SmoothCandidateTests {
    static func data(n: Int, k: Int, m: Int, seed: UInt64) -> (w: [Float], x: [Float]) {
        var rng = SplitMix64(seed: seed)
        var w = (0..<(n * k)).map { _ in rng.nextSigned() * 0.05 }
        for r in stride(from: 0, to: n, by: 7) { w[r * k + (r % k)] = 0.9 }  // row outliers
        var x = (0..<(m * k)).map { _ in rng.nextSigned() }
        for t in 0..<m { x[t * k + 3] *= 40 }                                  // an outlier channel
        for c in 0..<k { x[(m / 2) * k + c] = 0 }                              // an all-zero token
        return (w, x)
    }

    /// y = Qa(x) · Qw(W)ᵀ in Double from fake-quantized floats.
    static func fakeQuantOutput(w: [Float], x: [Float], n: Int, k: Int, m: Int, groupSize: Int) -> [Double] {
        var fw = w, fx = x
        FakeQuant.weightsMinMax(&fw, rows: n, columns: k, groupSize: groupSize)
        FakeQuant.activationsPerToken(&fx, channels: k)
        var y = [Double](repeating: 0, count: m * n)
        for t in 0..<m { for j in 0..<n { var s = 0.0; for c in 0..<k { s += Double(fx[t * k + c]) * Double(fw[j * k + c]) }; y[t * n + j] = s } }
        return y
    }

    /// The candidate's output through `CandidateArithmetic` (input x / scales, weights as given).
    static func output(useInt: Bool, w: [Float], x: [Float], n: Int, k: Int, m: Int, groupSize: Int,
                       scales: [Float]? = nil) throws -> [Float] {
        let arith = CandidateArithmetic(useInt: useInt, groupSize: groupSize, threads: 2)
        let weights = try arith.weights(w, rows: n, columns: k)
        var y = [Float](repeating: 0, count: m * n)
        try x.withUnsafeBufferPointer { try arith.setInput($0.baseAddress!, rows: m, width: k, scales: scales ?? [Float](repeating: 1, count: k)) }
        try y.withUnsafeMutableBufferPointer { try arith.apply(weights, out: $0.baseAddress!) }
        return y
    }

    static func intOutput(w: [Float], x: [Float], n: Int, k: Int, m: Int, groupSize: Int) throws -> [Float] {
        try output(useInt: true, w: w, x: x, n: n, k: k, m: m, groupSize: groupSize)
    }

    /// The float mode is the reference's fake quantization, smoothing scales applied to the input.
    @Test(arguments: [(-1, false), (128, false), (-1, true)])
    func floatAndIntModesMatchTheFakeQuantization(mode: (Int, Bool)) throws {
        let (g, useInt) = mode
        let (n, k, m) = (19, 576, 11)
        let (w, x) = Self.data(n: n, k: k, m: m, seed: 7)
        let scales = (0..<k).map { Float(1 + ($0 % 5)) * 0.5 }
        let xs = (0..<(m * k)).map { x[$0] / scales[$0 % k] }
        let want = Self.fakeQuantOutput(w: w, x: xs, n: n, k: k, m: m, groupSize: g)
        let got = try Self.output(useInt: useInt, w: w, x: x, n: n, k: k, m: m, groupSize: g, scales: scales)
        let scale = want.map { abs($0) }.max()!
        let err = zip(got, want).map { abs(Double($0) - $1) }.max()! / scale
        #expect(err < 1e-6, "group \(g) int \(useInt): \(err)")
        // Without the scales the input differs: the comparison can fail.
        let plain = try Self.output(useInt: useInt, w: w, x: x, n: n, k: k, m: m, groupSize: g)
        #expect(zip(plain, want).map { abs(Double($0) - $1) }.max()! / scale > 1e-3)
    }

    @Test(arguments: [(37, 96, 9), (64, 576, 17), (3, 1536, 64)])
    func perChannelIsTheReferenceArithmetic(shape: (Int, Int, Int)) throws {
        let (n, k, m) = shape
        let (w, x) = Self.data(n: n, k: k, m: m, seed: UInt64(n * k + m))
        let want = Self.fakeQuantOutput(w: w, x: x, n: n, k: k, m: m, groupSize: -1)
        let got = try Self.intOutput(w: w, x: x, n: n, k: k, m: m, groupSize: -1)
        let scale = want.map { abs($0) }.max()!
        let err = zip(got, want).map { abs(Double($0) - $1) }.max()! / scale
        #expect(err < 1e-6, "\(n)x\(k) m \(m): \(err)")
        #expect(got[(m / 2) * n..<(m / 2 + 1) * n].allSatisfy { $0 == 0 })  // the all-zero token
    }

    /// Per-group: the two-level grid rounds each slice's scale ratio to fp16 and the product to int8, so
    /// the outputs differ from the float per-slice scales by at most that rounding (a few parts per
    /// thousand of the output scale), and the codes themselves are the MinMax codes.
    @Test(arguments: [(37, 576, 9), (16, 1536, 5)])
    func perGroupIsTheTwoLevelFormOfTheSameCodes(shape: (Int, Int, Int)) throws {
        let (n, k, m) = shape
        let (w, x) = Self.data(n: n, k: k, m: m, seed: UInt64(n + k + m))
        let want = Self.fakeQuantOutput(w: w, x: x, n: n, k: k, m: m, groupSize: 128)
        let got = try Self.intOutput(w: w, x: x, n: n, k: k, m: m, groupSize: 128)
        let scale = want.map { abs($0) }.max()!
        let err = zip(got, want).map { abs(Double($0) - $1) }.max()! / scale
        #expect(err < 2e-2, "\(n)x\(k) m \(m): \(err)")
        #expect(err > 0)  // it is a different grid: a test that could not tell them apart would be no test
        // The codes in the CPU layout are the MinMax codes of each slice.
        let nibbles = try SmoothCandidate.intWeights(w, rows: n, columns: k, groupSize: 128).unpackNibbles()
        for r in 0..<n {
            for g in 0..<(k / 128) {
                let slice = w[(r * k + g * 128)..<(r * k + g * 128 + 128)]
                let s = max(slice.map { abs($0) }.max()! / 7, FakeQuant.scaleFloor)
                for c in (g * 128)..<(g * 128 + 128) {
                    let want = Int8(WeightQuantizer.roundHalfEven(min(7, max(-7, w[r * k + c] / s))))
                    let byte = nibbles[r * (k / 2) + c / 2]
                    let got = Int8(bitPattern: (c % 2 == 0 ? byte << 4 : byte & 0xF0)) >> 4
                    #expect(got == want, "row \(r) column \(c)")
                }
            }
        }
    }
}
