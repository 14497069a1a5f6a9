import Foundation
import Testing
import QQQKernels
@testable import QQQCore

/// The smoothing search of one layer of the tiny fixture, on several windows.
@Suite("Layer smoothing")
struct LayerSmootherTests {
    /// With every token of several windows (`smoothTokens` 0, so the MLP groups take all the windows'
    /// tokens, more than one window's worth), each group must see every window: its losses are means
    /// over all tokens, so they cannot depend on the order of the windows.
    @Test(arguments: ["float", "int"])
    func lossesDoNotDependOnWindowOrder(kernels: String) throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let config = try ModelConfig.load(directory: model.path)
        let checkpoint = try Checkpoint(directory: model.path)
        let t = 32, h = config.hiddenSize
        var rng = SplitMix64(seed: 3)
        // Two windows of different magnitude, with an outlier channel.
        let windows: [UnsafeMutablePointer<Float>] = (0..<2).map { w in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: t * h)
            for i in 0..<(t * h) { p[i] = rng.nextSigned() * (i % h == 5 ? 30 : 1) * Float(1 + 3 * w) }
            return p
        }
        defer { windows.forEach { $0.deallocate() } }
        var options = QuantizeOptions()
        options.smoothTokens = 0
        options.smoothKernels = kernels
        options.smoothVO = "mha"
        options.groupSize = -1
        options.threads = 1
        let math = LayerMath(config: config, tokens: t, threads: 1)
        func run(_ order: [Int]) throws -> [LayerSmoother.Choice] {
            var L = try LayerWeights(checkpoint: checkpoint, config: config, layer: 0)
            return try LayerSmoother(math: math, options: options).smooth(&L, inputs: order.map { UnsafePointer(windows[$0]) })
        }
        let (a, b) = (try run([0, 1]), try run([1, 0]))
        // The fixture has grouped-query attention: no v→o group with the reference's rule.
        #expect(a.map(\.group) == ["qkv", "gate/up", "down"])
        for (x, y) in zip(a, b) {
            #expect(abs(x.baselineLoss - y.baselineLoss) <= 1e-4 * x.baselineLoss, "\(x.group): \(x.baselineLoss) vs \(y.baselineLoss)")
            #expect(abs(x.loss - y.loss) <= 1e-4 * max(x.loss, 1e-12), "\(x.group): \(x.loss) vs \(y.loss)")
        }
    }

    /// Smoothing, the v→o group included (shared across the query heads of a KV head, or one head per KV
    /// head as the reference has it), only rescales: the float layer computes the same output before and
    /// after the scales are folded. A v channel made an outlier makes the o group scale something, so a
    /// wrong fold (wrong head mapping, a missing row) shows.
    @Test(arguments: [(2, "shared"), (4, "mha")])
    func foldedLayerComputesTheSameInFloat(kvHeads: Int, mode: String) throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"), kvHeads: kvHeads)
        let config = try ModelConfig.load(directory: model.path)
        let checkpoint = try Checkpoint(directory: model.path)
        let t = 32, h = config.hiddenSize, qd = config.numHeads * config.headDim, inter = config.intermediateSize
        var rng = SplitMix64(seed: 5)
        let x = (0..<(t * h)).map { i in rng.nextSigned() * (i % h == 7 ? 20 : 1) }
        var options = QuantizeOptions()
        options.groupSize = -1
        options.threads = 1
        options.smoothVO = mode
        let math = LayerMath(config: config, tokens: t, threads: 1)
        var L = try LayerWeights(checkpoint: checkpoint, config: config, layer: 0)
        for c in 0..<h { L.w[2][(config.headDim + 1) * h + c] *= 40 }  // v row of KV head 1, dim 1
        func layerOutput(_ L: LayerWeights) -> [Float] {
            var xn = [Float](repeating: 0, count: t * h), attn = [Float](repeating: 0, count: t * qd)
            var h1 = [Float](repeating: 0, count: t * h), act = [Float](repeating: 0, count: t * inter)
            var up = act, out = h1
            x.withUnsafeBufferPointer { xp in
                math.rmsNorm(xp.baseAddress!, weight: L.ln1, out: &xn)
                math.attention(xn, wq: L.w[0], wk: L.w[1], wv: L.w[2], bias: L.bias, out: &attn)
                math.linear(attn, L.w[3], n: h, k: qd, out: &h1)
                for i in 0..<(t * h) { h1[i] += xp[i] }
            }
            math.rmsNorm(h1, weight: L.ln2, out: &xn)
            math.swiglu(xn, wg: L.w[4], wu: L.w[5], up: &up, out: &act)
            math.linear(act, L.w[6], n: h, k: inter, out: &out)
            for i in 0..<(t * h) { out[i] += h1[i] }
            return out
        }
        let before = layerOutput(L)
        let choices = try x.withUnsafeBufferPointer { xp in
            try LayerSmoother(math: math, options: options).smooth(&L, inputs: [xp.baseAddress!])
        }
        #expect(choices.map(\.group) == ["qkv", "o", "gate/up", "down"])
        let o = choices[1]
        #expect(o.scaledChannels > 0 && o.loss < o.baselineLoss, "o group: \(o.scaledChannels) channels, loss \(o.loss) vs \(o.baselineLoss)")
        let after = layerOutput(L)
        let scale = before.map { abs($0) }.max()!
        let worst = zip(before, after).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * scale, "layer output moved by \(worst) (scale \(scale))")
    }
}
