import Foundation
import Testing
import QQQKernels
@testable import QQQCore

/// On a real layer of the demo model: GPTQ's output error on held-out inputs must be below
/// round-to-nearest's (the Hessian is taken on other windows). Needs the model; skipped without it.
@Suite("GPTQ on a real layer")
struct GPTQRealLayerTests {
    static var modelDir: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = ProcessInfo.processInfo.environment["QQQ_MODEL_DIR"] ?? root.appendingPathComponent("models/SmolLM2-135M-Instruct").path
        return FileManager.default.fileExists(atPath: dir + "/config.json") ? dir : nil
    }

    @Test func gptqBeatsRTNOnHeldOutInputs() throws {
        guard let dir = Self.modelDir else { print("skipped: demo model absent"); return }
        let config = try ModelConfig.load(directory: dir)
        let checkpoint = try Checkpoint(directory: dir)
        let h = config.hiddenSize
        let embed = try checkpoint.tensor("model.embed_tokens.weight")
        let ln = try checkpoint.tensor("model.layers.0.input_layernorm.weight").toFloat32()
        var rng = SplitMix64(seed: 3)
        // Layer-0 inputs: normed embeddings of random token ids (calibration) and of other ids (held out).
        func inputs(_ count: Int) throws -> [Float] {
            var x = [Float](repeating: 0, count: count * h)
            for t in 0..<count {
                try embed.copyFloat32(into: &x[t * h], elementOffset: Int(rng.next() % UInt64(config.vocabSize)) * h, count: h)
            }
            var out = x
            RMSNormRows.apply(x, rows: count, ld: h, weight: ln, eps: config.rmsNormEps, out: &out, threads: 2)
            return out
        }
        let calib = try inputs(4096), held = try inputs(2048)
        let hess = Hessian(columns: h)
        try hess.add(calib)
        for name in ["self_attn.q_proj", "mlp.gate_proj"] {
            let t = try checkpoint.tensor("model.layers.0.\(name).weight")
            let w = try t.toFloat32()
            let n = t.shape[0]
            for group in [-1, 128] {
                let options = GPTQOptions(groupSize: group)
                let g = try QQQFormat.pack(GPTQ.quantize(weight: w, rows: n, columns: h, hessian: hess.matrix(), options: options, layerName: name), layerName: name)
                let r = try QQQFormat.pack(RoundToNearest.quantize(weight: w, rows: n, columns: h, options: options, layerName: name), layerName: name)
                func err(_ q: [Float]) -> Double {
                    let d = zip(w, q).map { $0 - $1 }
                    var y = [Float](repeating: 0, count: 2048 * n)
                    d.withUnsafeBytes { db in
                        Gemm.sgemm(m: 2048, n: n, k: h, a: held, lda: h, b: db.baseAddress!, ldb: h, bType: .f32, bLayout: .nk, c: &y, ldc: n)
                    }
                    return y.reduce(0.0) { $0 + Double($1 * $1) }
                }
                let (eg, er) = (err(g.effectiveWeight()), err(r.effectiveWeight()))
                print("layer 0 \(name) group \(group): held-out output error GPTQ \(eg) RTN \(er) ratio \(eg / er)")
                #expect(eg < er)
            }
        }
    }
}
