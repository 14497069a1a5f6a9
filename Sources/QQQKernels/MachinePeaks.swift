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
        let fma = computeCeiling(integer: false, threads: threads, path: path)
        let int8 = computeCeiling(integer: true, threads: threads, path: path) / 2
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
        return MachinePeaks(threads: threads, fp32GFLOPs: fma, int8GMACs: int8, memoryGBs: Double(count * 4) / best / 1e9)
    }

    /// The FP32 FMA ceiling in GFLOP/s, or (integer) the int8 multiply-accumulate ceiling in GOPS
    /// (2 ops per MAC), best of three runs of `iterations` loop trips on each of `threads` threads.
    public static func computeCeiling(integer: Bool, threads: Int, path: KernelPath, iterations: Int64 = 20_000_000) -> Double {
        let p = Gemm.code(path)
        let work = integer ? Double(iterations) * 8 * 32 * 2 : Double(iterations) * 12 * 8 * 2
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                if integer { blackHole(Float(qqq_peak_int8(p, iterations))) } else { blackHole(qqq_peak_fma(p, iterations)) }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return work * Double(threads) / best / 1e9
    }
}

@inline(never) func blackHole(_ x: Float) { if x == .greatestFiniteMagnitude { print(x) } }
