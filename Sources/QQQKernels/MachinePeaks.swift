import CQQQKernels
import Dispatch
import Foundation

/// The machine's ceilings measured with the kernels' own instruction sequences.
public struct MachinePeaks: Codable, Sendable {
    public let threads: Int
    /// FP32 FMA rate, GFLOP/s.
    public let fp32GFLOPs: Double
    /// int8 multiply-accumulates per second with vpmaddubsw + vpmaddwd, in G MAC/s (2 ops each).
    public let int8GMACs: Double
    /// Read bandwidth of a 1 GiB buffer, GB/s.
    public let memoryGBs: Double

    public static func measure(threads: Int, path: KernelPath) -> MachinePeaks {
        let p = Gemm.code(path)
        let iters: Int64 = 20_000_000
        func rate(_ work: Double, _ body: @escaping () -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                DispatchQueue.concurrentPerform(iterations: threads) { _ in body() }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return work * Double(threads) / best
        }
        let fma = rate(Double(iters) * 12 * 8 * 2) { blackHole(qqq_peak_fma(p, iters)) }
        let int8 = rate(Double(iters) * 8 * 32) { blackHole(Float(qqq_peak_int8(p, iters))) }
        let count = (1 << 30) / 4
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        buffer.initialize(repeating: 1, count: count)
        defer { buffer.deallocate() }
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let per = count / threads
            DispatchQueue.concurrentPerform(iterations: threads) { w in blackHole(qqq_read_floats(p, buffer + w * per, Int64(per))) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return MachinePeaks(threads: threads, fp32GFLOPs: fma / 1e9, int8GMACs: int8 / 1e9, memoryGBs: Double(count * 4) / best / 1e9)
    }
}

@inline(never) func blackHole(_ x: Float) { if x == .greatestFiniteMagnitude { print(x) } }
