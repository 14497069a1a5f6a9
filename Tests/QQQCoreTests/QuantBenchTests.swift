import Foundation
import Testing
import QQQCore

/// Timing of GPTQ per linear at the demo model's shapes (and optionally a 7B-sized one).
/// Opt-in: QQQ_QUANT_BENCH=1 (and QQQ_QUANT_BENCH_7B=1 for 4096 x 11008); run in release.
@Suite struct QuantBenchTests {
    @Test func gptqTimings() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["QQQ_QUANT_BENCH"] == "1" else {
            print("QuantBenchTests: skipped (set QQQ_QUANT_BENCH=1 to time GPTQ)")
            return
        }
        var shapes = [(576, 576), (1536, 576), (576, 1536)]
        if env["QQQ_QUANT_BENCH_7B"] == "1" { shapes = [(4096, 11008)] }
        for (n, k) in shapes {
            var state: UInt64 = 12345
            func rnd() -> Float {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
            }
            let tokens = 2048
            let x = (0..<(tokens * k)).map { _ in rnd() }
            let w = (0..<(n * k)).map { _ in rnd() * 0.05 }
            let h = Hessian(columns: k)
            var t0 = Date()
            x.withUnsafeBufferPointer { h.add(x: $0.baseAddress!, tokens: tokens) }
            let tHess = Date().timeIntervalSince(t0)
            let hm = h.matrix()
            for gs in [-1, 128] {
                let opts = GPTQOptions(groupSize: gs)
                t0 = Date()
                let f = try GPTQHessianFactor(hessian: hm, columns: k, options: opts, layerName: "bench")
                let tFactor = Date().timeIntervalSince(t0)
                t0 = Date()
                let r = try GPTQ.quantize(weight: w, rows: n, columns: k, factor: f, options: opts, layerName: "bench")
                let tQuant = Date().timeIntervalSince(t0)
                t0 = Date()
                _ = try RoundToNearest.quantize(weight: w, rows: n, columns: k, options: opts, layerName: "bench")
                let tRTN = Date().timeIntervalSince(t0)
                #expect(r.loss.isFinite)
                print(String(format: "GPTQ N=%d K=%d g=%d: hessian(2048 tok) %.3fs factor %.3fs quantize %.3fs rtn %.3fs loss %.3g",
                             n, k, gs, tHess, tFactor, tQuant, tRTN, r.loss))
            }
        }
    }
}
