import CQQQKernels
import Foundation

/// Integer weights in the CPU "pair-chunk" layout (described in `qqq_int8.h`), built once at load time.
/// W4 weights come from qqq's plain on-disk nibbles (row n: K signed int4, two per byte, even k in the
/// low nibble) and keep 4 bits per weight in memory; per-group scales stay fp16 and are expanded to
/// int8 tables inside the kernel.
public final class IntWeights: @unchecked Sendable {
    public enum Format: String, Sendable {
        case w4PerChannel = "w4a8"        // q in [-8, 7], one scale per output
        case w4PerGroup128 = "w4a8-g128"  // two-level: fp16 ratio per 128 inputs, int8 per-output grid
        case w8PerChannel = "w8a8"
    }

    public let format: Format
    public let n: Int
    public let k: Int
    let packed: UnsafeMutableRawPointer
    let packedBytes: Int
    /// Per-output fp32 scale of the epilogue.
    public let scale: [Float]
    /// sum_k w[n][k] of the integer weights (per-group: after the table expansion). The per-channel
    /// kernels use it on every path, the VNNI kernels for every format (u8 x s8 against a + 128).
    private(set) var qsum: [Int32]
    let groupScales: [UInt16]  // [pair][group][2] fp16

    public var groups: Int { (k + 127) / 128 }
    var pairs: Int { (n + 1) / 2 }
    /// Bytes the kernel streams per call (weights and their scales).
    public var byteCount: Int { packedBytes + groupScales.count * 2 + scale.count * 4 }

    static func checkShape(n: Int, k: Int) throws {
        guard n > 0, k > 0 else { throw KernelError.badShape("N = \(n), K = \(k) must be positive") }
        guard k % 32 == 0 else {
            throw KernelError.badShape("K = \(k) is not a multiple of 32 (the int4/int8 CPU formats need K % 32 == 0)")
        }
    }

    private init(format: Format, n: Int, k: Int, packedBytes: Int, scale: [Float], groupScales: [UInt16]) {
        self.format = format
        qsum = [Int32](repeating: 0, count: n)
        self.n = n
        self.k = k
        self.packedBytes = packedBytes
        packed = UnsafeMutableRawPointer.allocate(byteCount: max(packedBytes, 64), alignment: 64)
        self.scale = scale
        self.groupScales = groupScales
    }

    /// qsum from the packed weights (once, at load): the unsigned-activation kernels subtract 128 * qsum[n].
    private func computeWeightSums() {
        let f: Int32
        switch format {
        case .w4PerChannel: f = Int32(QQQ_W4_PER_CHANNEL)
        case .w4PerGroup128: f = Int32(QQQ_W4_PER_GROUP)
        case .w8PerChannel: f = Int32(QQQ_W8)
        }
        groupScales.withUnsafeBufferPointer { gs in
            qqq_int_weight_sums(f, packed, gs.baseAddress, Int64(n), Int64(k), &qsum)
        }
    }

    deinit { packed.deallocate() }

    /// W4 weights from plain nibbles [N][K/2]; `sGroup` (fp16 [N][ceil(K/128)]) makes them per-group.
    public static func w4(plainNibbles: UnsafeRawPointer, n: Int, k: Int, scale: UnsafePointer<Float>,
                          sGroup: UnsafePointer<UInt16>? = nil) throws -> IntWeights {
        try checkShape(n: n, k: k)
        let src = plainNibbles.assumingMemoryBound(to: UInt8.self)
        let groups = (k + 127) / 128, pairs = (n + 1) / 2
        var gs: [UInt16] = []
        if let sGroup {
            gs = [UInt16](repeating: 0, count: pairs * groups * 2)
            for row in 0..<n {
                for g in 0..<groups { gs[((row / 2) * groups + g) * 2 + row % 2] = sGroup[row * groups + g] }
            }
        }
        let w = IntWeights(format: sGroup == nil ? .w4PerChannel : .w4PerGroup128, n: n, k: k, packedBytes: pairs * k,
                           scale: Array(UnsafeBufferPointer(start: scale, count: n)), groupScales: gs)
        qqq_w4_pack(src, Int64(n), Int64(k), w.packed.assumingMemoryBound(to: UInt8.self))
        w.computeWeightSums()
        return w
    }

    /// W8 weights from int8 [N][K] (values in [-127, 127]).
    public static func w8(weights: UnsafePointer<Int8>, n: Int, k: Int, scale: UnsafePointer<Float>) throws -> IntWeights {
        try checkShape(n: n, k: k)
        let pairs = (n + 1) / 2
        let w = IntWeights(format: .w8PerChannel, n: n, k: k, packedBytes: pairs * 2 * k,
                           scale: Array(UnsafeBufferPointer(start: scale, count: n)), groupScales: [])
        qqq_w8_pack(weights, Int64(n), Int64(k), w.packed.assumingMemoryBound(to: Int8.self))
        w.computeWeightSums()
        return w
    }

    /// The plain nibbles back from the CPU layout (round-trip check of the repacking).
    public func unpackNibbles() -> [UInt8] {
        precondition(format != .w8PerChannel)
        var out = [UInt8](repeating: 0, count: n * k / 2)
        qqq_w4_unpack(packed.assumingMemoryBound(to: UInt8.self), Int64(n), Int64(k), &out)
        return out
    }
}

/// Integer GEMM: `y[t][n] = (float(Σ_k a[t][k]·w[n][k]) · scale[n]) · sigma[t] (+ bias[n])`, with the
/// whole K reduction in int32. Output pairs are split across threads (GEMV and GEMM alike).
public enum IntGemm {
    public static func run(_ x: QuantizedActivations, weights w: IntWeights, bias: UnsafePointer<Float>? = nil,
                           y: UnsafeMutablePointer<Float>, ldy: Int, threads: Int, path: KernelPath? = nil,
                           acc: UnsafeMutablePointer<Int32>? = nil, ldacc: Int = 0) throws {
        guard x.k == w.k else { throw KernelError.badShape("activations have K = \(x.k), weights K = \(w.k)") }
        let p = IntKernels.code(path ?? IntKernels.defaultPath)
        let format: Int32
        switch w.format {
        case .w4PerChannel: format = Int32(QQQ_W4_PER_CHANNEL)
        case .w4PerGroup128: format = Int32(QQQ_W4_PER_GROUP)
        case .w8PerChannel: format = Int32(QQQ_W8)
        }
        let m = x.m, k = w.k, n = w.n
        // Tiny problems are not worth waking a second thread.
        let workers = Double(m) * Double(n) * Double(k) < 1e6 ? 1 : threads
        w.scale.withUnsafeBufferPointer { scale in
            w.qsum.withUnsafeBufferPointer { qsum in
                w.groupScales.withUnsafeBufferPointer { gs in
                    // Many tokens: chunks of whole 8-output strips, handed out dynamically (each output
                    // pair's sum is exact, so any split gives the same bits). One token: static halves.
                    let split = m >= 16 ? { (body: (Int, Int) -> Void) in
                        WorkSplit.chunks(w.pairs, align: 4, threads: workers, body)
                    } : { (body: (Int, Int) -> Void) in IntKernels.parallel(w.pairs, threads: workers, body) }
                    split { p0, p1 in
                        qqq_int_gemm(p, format, Int64(m), Int64(k), x.a, x.ua, Int64(k), x.sigma, w.packed,
                                     qsum.baseAddress, gs.baseAddress, scale.baseAddress!, bias, Int64(n),
                                     Int64(p0), Int64(p1), y, Int64(ldy), acc, Int64(ldacc))
                    }
                }
            }
        }
    }
}
