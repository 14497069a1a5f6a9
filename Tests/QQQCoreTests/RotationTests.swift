import Foundation
import Testing
import QQQKernels
@testable import QQQCore

@Suite("Hadamard rotation")
struct RotationTests {
    @Test(arguments: [1, 2, 12, 20, 28, 36, 60, 108, 140])
    func paleyMatricesAreHadamard(order k: Int) throws {
        let h = try #require(Hadamard.paley(order: k))
        for i in 0..<k {
            for j in 0..<k {
                let dot = (0..<k).reduce(0.0) { $0 + h[i * k + $1] * h[j * k + $1] }
                #expect(dot == (i == j ? Double(k) : 0), "row \(i) · row \(j)")
            }
        }
        #expect(h.allSatisfy { $0 == 1 || $0 == -1 })
    }

    @Test func factorsTheModelSizes() {
        #expect(Hadamard.factor(576)! == (36, 16))
        #expect(Hadamard.factor(4096)! == (1, 4096))
        #expect(Hadamard.factor(896)! == (28, 32))
        #expect(Hadamard.factor(5120)! == (20, 256))
        #expect(Hadamard.factor(1536)! == (12, 128))
        #expect(Hadamard.factor(832)! == (104, 8))  // 104 = 103 + 1 (Paley I)
        #expect(Hadamard.factor(52) == nil)  // 52 needs GF(25); 26 and 13 have no Paley prime either
        #expect(Hadamard.factor(156) == nil)
        #expect(throws: QQQError.self) { _ = try HadamardRotation(size: 156, seed: 0) }
    }

    /// T is orthogonal: its columns (T of the unit vectors) are orthonormal, and it matches the dense
    /// (H_K ⊗ H_S) D / sqrt(n) built from the matrices directly.
    @Test(arguments: [64, 576, 96])
    func rotationIsOrthogonalAndMatchesTheKroneckerProduct(size n: Int) throws {
        let r = try HadamardRotation(size: n, seed: 7)
        var cols = [[Double]]()
        let buf = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
        defer { buf.deallocate() }
        for j in 0..<n {
            for i in 0..<n { buf[i] = i == j ? 1 : 0 }
            r.apply(buf, scratch: buf + n)
            cols.append(Array(UnsafeBufferPointer(start: buf, count: n)))
        }
        for a in 0..<n {
            for b in a..<n {
                let dot = (0..<n).reduce(0.0) { $0 + cols[a][$1] * cols[b][$1] }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-12)
            }
        }
        let hk = Hadamard.paley(order: r.k)!
        func sylvester(_ i: Int, _ j: Int) -> Double { (i & j).nonzeroBitCount % 2 == 0 ? 1 : -1 }
        for (row, col) in [(0, 0), (1, 5), (n - 1, n / 2), (n / 3, n - 2)] {
            let m = hk[(row / r.s) * r.k + col / r.s] * sylvester(row % r.s, col % r.s)
            #expect(abs(cols[col][row] - m * r.signs[col] / Double(n).squareRoot()) < 1e-12)
        }
    }

    /// The rotated layer computes the same function on the rotated stream: layer'(T x) = T layer(x),
    /// on layer 0 of the demo model (norms fused, q/k/v/gate/up columns and o/down rows rotated, v→o
    /// per-head Hadamard). Needs the model; skipped without it.
    @Test func rotatedRealLayerComputesTheSameFunction() throws {
        guard let dir = GPTQRealLayerTests.modelDir else { print("skipped: demo model absent"); return }
        let c = try ModelConfig.load(directory: dir)
        let checkpoint = try Checkpoint(directory: dir)
        let tokens = 48, h = c.hiddenSize
        let math = LayerMath(config: c, tokens: tokens, threads: 2)
        let rotation = try HadamardRotation(size: h, seed: 0)
        let embed = try checkpoint.tensor("model.embed_tokens.weight")
        var x = [Float](repeating: 0, count: tokens * h)
        var rng = SplitMix64(seed: 11)
        for t in 0..<tokens {
            try embed.copyFloat32(into: &x[t * h], elementOffset: Int(rng.next() % UInt64(c.vocabSize)) * h, count: h)
        }
        func forward(_ L: LayerWeights, _ input: [Float]) -> [Float] {
            var x = input
            var xn = [Float](repeating: 0, count: tokens * max(h, c.intermediateSize))
            var attn = [Float](repeating: 0, count: tokens * math.qDim)
            var proj = [Float](repeating: 0, count: tokens * h)
            var up = [Float](repeating: 0, count: tokens * c.intermediateSize)
            math.rmsNorm(x, weight: L.ln1, out: &xn)
            math.attention(xn, wq: L.w[0], wk: L.w[1], wv: L.w[2], bias: L.bias, out: &attn)
            math.linear(attn, L.w[3], n: h, k: math.qDim, out: &proj)
            for i in 0..<x.count { x[i] += proj[i] }
            math.rmsNorm(x, weight: L.ln2, out: &xn)
            var act = [Float](repeating: 0, count: tokens * c.intermediateSize)
            math.swiglu(xn, wg: L.w[4], wu: L.w[5], up: &up, out: &act)
            math.linear(act, L.w[6], n: h, k: c.intermediateSize, out: &proj)
            for i in 0..<x.count { x[i] += proj[i] }
            return x
        }
        let original = try LayerWeights(checkpoint: checkpoint, config: c, layer: 0)
        var rotated = original
        rotated.rotate(rotation, config: c, threads: 2)
        #expect(rotated.ln1.allSatisfy { $0 == 1 } && rotated.ln2.allSatisfy { $0 == 1 })
        var want = forward(original, x)
        want.withUnsafeMutableBufferPointer { rotation.rotateRows($0.baseAddress!, rows: tokens, ld: h, threads: 1) }
        var xr = x
        xr.withUnsafeMutableBufferPointer { rotation.rotateRows($0.baseAddress!, rows: tokens, ld: h, threads: 1) }
        let got = forward(rotated, xr)
        let scale = want.map { abs($0) }.max()!
        let worst = zip(got, want).map { abs($0 - $1) }.max()!
        print("rotated layer 0: max |difference| \(worst) for outputs up to \(scale)")
        #expect(worst <= 1e-4 * scale)
    }
}
