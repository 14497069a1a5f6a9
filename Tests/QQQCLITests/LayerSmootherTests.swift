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
        options.groupSize = -1
        options.threads = 1
        let math = LayerMath(config: config, tokens: t, threads: 1)
        func run(_ order: [Int]) throws -> [LayerSmoother.Choice] {
            var L = try LayerWeights(checkpoint: checkpoint, config: config, layer: 0)
            return try LayerSmoother(math: math, options: options).smooth(&L, inputs: order.map { UnsafePointer(windows[$0]) })
        }
        let (a, b) = (try run([0, 1]), try run([1, 0]))
        #expect(a.map(\.group) == ["qkv", "gate/up", "down"])
        for (x, y) in zip(a, b) {
            #expect(abs(x.baselineLoss - y.baselineLoss) <= 1e-4 * x.baselineLoss, "\(x.group): \(x.baselineLoss) vs \(y.baselineLoss)")
            #expect(abs(x.loss - y.loss) <= 1e-4 * max(x.loss, 1e-12), "\(x.group): \(x.loss) vs \(y.loss)")
        }
    }
}
