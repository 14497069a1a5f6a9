import CQQQKernels
import Dispatch
import Foundation

/// The instruction sequence a kernel's inner loop is bound by, and so the ceiling it is judged against.
public enum ComputeSequence: String, Codable, Sendable {
    /// 256-bit FP32 FMA.
    case fp32FMA = "fp32-fma"
    /// u8 x s8 int8: vpmaddubsw + vpmaddwd + vpaddd (activations offset to unsigned).
    case int8Unsigned = "u8s8"
    /// s8 x s8 int8: the same plus vpsignb, |w| in the unsigned slot (exact for full-range weights,
    /// where u8 x s8 pair sums could saturate vpmaddubsw).
    case int8Signed = "s8s8"

    public var isInteger: Bool { self != .fp32FMA }
}

/// The machine's ceilings measured with the kernels' own instruction sequences.
public struct MachinePeaks: Codable, Sendable {
    public let threads: Int
    /// FP32 FMA rate, GFLOP/s.
    public let fp32GFLOPs: Double
    /// int8 multiply-accumulates per second with vpmaddubsw + vpmaddwd (u8 x s8), in G MAC/s (2 ops each);
    /// on the VNNI paths (AVX-VNNI, AVX-512 with VNNI) both int8 ceilings are vpdpbusd's.
    public let int8GMACs: Double
    /// The same for the s8 x s8 form (vpsignb added), in G MAC/s.
    public let int8SignedGMACs: Double
    /// Read bandwidth of a 1 GiB buffer, GB/s.
    public let memoryGBs: Double

    public static func measure(threads: Int, path: KernelPath) -> MachinePeaks {
        let p = Gemm.code(path)
        let fma = computeCeiling(.fp32FMA, threads: threads, path: path)
        let int8 = computeCeiling(.int8Unsigned, threads: threads, path: path) / 2
        let int8Signed = computeCeiling(.int8Signed, threads: threads, path: path) / 2
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
        return MachinePeaks(threads: threads, fp32GFLOPs: fma, int8GMACs: int8, int8SignedGMACs: int8Signed, memoryGBs: Double(count * 4) / best / 1e9)
    }

    /// The ceiling in GFLOP/s (FP32) or GOPS (int8, 2 ops per MAC) of `sequence`, best of three runs of
    /// `iterations` loop trips on each of `threads` threads.
    public static func computeCeiling(_ sequence: ComputeSequence, threads: Int, path: KernelPath,
                                      iterations: Int64 = 20_000_000) -> Double {
        // The int8 loops run the path's integer kernel sequence (vpdpbusd on the VNNI paths, for both forms).
        let p = sequence.isInteger ? IntKernels.code(path) : Gemm.code(path)
        let work = sequence.isInteger ? Double(iterations) * Double(qqq_peak_int8_macs(p)) * 2 : Double(iterations) * Double(qqq_peak_fma_flops(p))
        let signed: Int32 = sequence == .int8Signed ? 1 : 0
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                if sequence.isInteger { blackHole(Float(qqq_peak_int8(p, signed, iterations))) } else { blackHole(qqq_peak_fma(p, iterations)) }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return work * Double(threads) / best / 1e9
    }
}

@inline(never) func blackHole(_ x: Float) { if x == .greatestFiniteMagnitude { print(x) } }

extension MachinePeaks {
    /// The ceiling of `sequence` in GFLOP/s or GOPS.
    public func ceiling(_ sequence: ComputeSequence) -> Double {
        switch sequence {
        case .fp32FMA: return fp32GFLOPs
        case .int8Unsigned: return 2 * int8GMACs
        case .int8Signed: return 2 * int8SignedGMACs
        }
    }
}
