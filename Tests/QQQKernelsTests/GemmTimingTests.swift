import Foundation
import Testing
@testable import QQQKernels

/// Throughput printout for development (`QQQ_GEMM_TIMING=1 swift test -c release --filter GemmTiming`).
/// Asserts nothing about speed: `qqq bench` is where speed is reported.
@Suite("GEMM timing (opt-in)")
struct GemmTimingTests {
    /// Seconds of the fastest of three calls.
    static func bestOf3(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["QQQ_GEMM_TIMING"] == "1"))
    func printThroughput() {
        for (k, n) in [(576, 1536), (1536, 576), (576, 49152), (4096, 4096)] {
            for m in [1, 64, 2048] {
                for type in [GemmBType.f32, .f16] {
                    let a = [Float](repeating: 0.5, count: m * k)
                    let b = [UInt16](repeating: 0x3C00, count: n * k * (type == .f32 ? 2 : 1))
                    var c = [Float](repeating: 0, count: m * n)
                    for threads in [1, 2] {
                        let best = Self.bestOf3 {
                            Gemm.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, bType: type, bLayout: .nk, c: &c, ldc: n, threads: threads)
                        }
                        print(String(format: "K%5d N%6d M%5d %@ t%d: %8.3f ms %7.1f GFLOP/s", k, n, m, "\(type)", threads, best * 1e3, 2.0 * Double(m * n * k) / best / 1e9))
                    }
                }
            }
        }
        // GPTQ's Hessian update per calibration window (n = the linear's K, k = 2048 tokens); GFLOP/s of
        // the triangle's useful work, n(n+1)k.
        for n in [576, 1536, 4096] {
            let k = 2048
            let x = [Float](repeating: 0.5, count: k * n)
            var c = [Float](repeating: 0, count: n * n)
            for threads in [1, 2] {
                let best = Self.bestOf3 {
                    x.withUnsafeBufferPointer { xb in
                        c.withUnsafeMutableBufferPointer { cb in
                            Gemm.syrkUpper(n: n, k: k, x: xb.baseAddress!, ldx: n, c: cb.baseAddress!, ldc: n, threads: threads)
                        }
                    }
                }
                print(String(format: "syrk n%5d k%5d t%d: %8.3f ms %7.1f GFLOP/s", n, k, threads, best * 1e3, Double(n * (n + 1) * k) / best / 1e9))
            }
        }
    }
}
