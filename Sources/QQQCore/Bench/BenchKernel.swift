import Foundation
import QQQKernels

/// The GEMM kernels `qqq bench` compares, each as carefully written as the others.
public enum BenchKernel: String, CaseIterable, Codable, Sendable {
    case fp32, fp16, w8a8, w4a16
    case w4a8 = "w4a8"
    case w4a8g128 = "w4a8-g128"

    public var summary: String {
        switch self {
        case .fp32: return "FP32 weights (packed once), FP32 activations"
        case .fp16: return "FP16 weights (packed once) converted on the fly, FP32 activations"
        case .w8a8: return "int8 per-channel weights, per-token int8 activations"
        case .w4a16: return "int4 g128 weights dequantized on the fly, FP32 activations"
        case .w4a8: return "QQQ int4 per-channel weights, per-token int8 activations"
        case .w4a8g128: return "QQQ int4 two-level g128 weights, per-token int8 activations"
        }
    }

    /// Integer kernels count int8 multiply-accumulates; the others FP32 FMAs.
    public var isInteger: Bool { sequence.isInteger }

    /// The instruction sequence the kernel's inner loop uses, whose ceiling it is judged against:
    /// per-channel int4 weights (|q| <= 8) are safe in vpmaddubsw against offset-unsigned activations;
    /// full-range int8 weights (W8A8, the expanded g128 weights) need the s8 x s8 form.
    public var sequence: ComputeSequence {
        switch self {
        case .fp32, .fp16, .w4a16: return .fp32FMA
        case .w4a8: return .int8Unsigned
        case .w8a8, .w4a8g128: return .int8Signed
        }
    }
}

/// One kernel's weights for one shape, in as many copies as needed to defeat the last-level cache.
final class PreparedKernel {
    let kernel: BenchKernel
    let k: Int, n: Int
    let copies: Int
    let bytesPerCopy: Int
    private var dense: [PackedWeights] = []    // fp32 / fp16 weights in the GEMM's strip layout
    private var q4: [Q4G128Matrix] = []
    private var ints: [IntWeights] = []
    private var acts: QuantizedActivations?

    init(kernel: BenchKernel, k: Int, n: Int, minBytes: Int, seed: UInt64) throws {
        self.kernel = kernel
        self.k = k
        self.n = n
        var rng = SplitMix64(seed: seed)
        let groups = (k + 127) / 128
        func nibbles() -> [UInt8] { (0..<(n * k / 2)).map { _ in UInt8(truncatingIfNeeded: rng.next()) & 0x77 } }
        let scale = (0..<n).map { _ in Float(0.001 + Double(rng.next() % 1000) * 1e-6) }
        let one: Int
        switch kernel {
        case .fp32: one = n * k * 4
        case .fp16: one = n * k * 2
        case .w8a8: one = n * k + n * 4
        case .w4a16: one = n * k / 2 + n * groups * 2
        case .w4a8: one = n * k / 2 + n * 4
        case .w4a8g128: one = n * k / 2 + n * groups * 2 + n * 4
        }
        bytesPerCopy = one
        copies = max(1, (minBytes + one - 1) / one)
        for _ in 0..<copies {
            switch kernel {
            case .fp32:
                var w = [Float](repeating: 0, count: n * k)
                for i in 0..<w.count { w[i] = Float(Int(rng.next() % 2001) - 1000) * 1e-4 }
                dense.append(try PackedWeights(w, type: .f32, n: n, k: k))
            case .fp16:
                var w = [UInt16](repeating: 0, count: n * k)
                for i in 0..<w.count { w[i] = Float16(Float(Int(rng.next() % 2001) - 1000) * 1e-4).bitPattern }
                dense.append(try PackedWeights(w, type: .f16, n: n, k: k))
            case .w8a8:
                let w = (0..<(n * k)).map { _ in Int8(Int(rng.next() % 255) - 127) }
                ints.append(try IntWeights.w8(weights: w, n: n, k: k, scale: scale))
            case .w4a16:
                let s = (0..<(n * groups)).map { _ in Float16(0.01).bitPattern }
                q4.append(try Q4G128Matrix(nibbles: nibbles(), scales: s, n: n, k: k))
            case .w4a8:
                ints.append(try IntWeights.w4(plainNibbles: nibbles(), n: n, k: k, scale: scale))
            case .w4a8g128:
                let s = (0..<(n * groups)).map { _ in Float16(1 + Float(rng.next() % 150) / 10).bitPattern }
                ints.append(try IntWeights.w4(plainNibbles: nibbles(), n: n, k: k, scale: scale, sGroup: s))
            }
        }
    }

    /// One call: y[M][N] = x[M][K] · W(copy)ᵀ, activation quantization included for integer kernels.
    func run(x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, copy: Int, threads: Int, path: KernelPath) throws {
        let c = copy % copies
        switch kernel {
        case .fp32, .fp16:
            dense[c].gemm(m: m, x: x, ldx: k, y: y, ldy: n, threads: threads, path: path)
        case .w4a16:
            q4[c].withDescriptor { d in
                Gemm.sgemm(m: m, n: n, k: k, a: x, lda: k, b: d, ldb: k, bType: .q4g128, bLayout: .nk, c: y, ldc: n,
                           threads: threads, path: path)
            }
        case .w8a8, .w4a8, .w4a8g128:
            let a = acts ?? QuantizedActivations(capacity: m, k: k)
            acts = a
            try a.quantize(x, m: m, ldx: k, threads: threads, path: path)
            try IntGemm.run(a, weights: ints[c], y: y, ldy: n, threads: threads, path: path)
        }
    }
}
