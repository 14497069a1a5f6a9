import CQQQKernels
import Dispatch
import Foundation

/// Element type of the B operand (weights), converted to fp32 inside the packed panels.
public enum GemmBType: Sendable {
    case f32, f16, bf16
    /// int4 weights with an fp16 scale per 128 inputs (W4A16), dequantized while packing; `b` points to
    /// a `qqq_q4_matrix` (see `Q4G128Matrix`), NK layout, ldb == k.
    case q4g128
    var code: Int32 {
        switch self {
        case .f32: return Int32(QQQ_B_F32)
        case .f16: return Int32(QQQ_B_F16)
        case .bf16: return Int32(QQQ_B_BF16)
        case .q4g128: return Int32(QQQ_B_Q4G128)
        }
    }
    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// Layout of B: `nk` is a Hugging Face weight W[n][k] (y = x·Wᵀ); `kn` is B[k][n] (e.g. P·V);
/// `packed` is a weight pre-packed once by `PackedWeights` (ldb = k), which the GEMM reads in place.
public enum GemmBLayout: Sendable {
    case nk, kn, packed
    var code: Int32 {
        switch self {
        case .nk: return Int32(QQQ_B_NK)
        case .kn: return Int32(QQQ_B_KN)
        case .packed: return Int32(QQQ_B_PACKED)
        }
    }
}

/// FP32 GEMM over fp32/fp16/bf16 weights (the engine of `qqq eval` and the float baselines of
/// `qqq bench`): `C = (accumulate ? C : 0) + A·B`. Work is split across threads by column blocks of N
/// (by rows of M when N is narrow); `threads <= 1` runs inline on the caller's thread.
public enum Gemm {
    public static var defaultThreads: Int = ProcessInfo.processInfo.activeProcessorCount
    static let pool = ScratchPool(floats: Int(qqq_sgemm_scratch_floats()))
    static let defaultFloatPath: KernelPath = (try? KernelDispatch.defaultPath()) ?? .portable

    /// The C path code for a kernel path (the float code has AVX-512, AVX2 and portable copies).
    static func code(_ path: KernelPath) -> Int32 {
        switch path {
        case .portable: return Int32(QQQ_PATH_PORTABLE)
        case .avx2, .avxvnni: return Int32(QQQ_PATH_AVX2)
        case .avx512: return Int32(QQQ_PATH_AVX512)
        }
    }

    public static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafeRawPointer, ldb: Int, bType: GemmBType, bLayout: GemmBLayout,
                             c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false,
                             aTransposed: Bool = false, threads: Int = Gemm.defaultThreads, path: KernelPath? = nil) {
        guard m > 0, n > 0 else { return }
        // aTransposed: A(i, p) = a[p * lda + i].
        let call = aTransposed ? qqq_sgemm_at : qqq_sgemm
        let p = code(path ?? defaultFloatPath)
        let acc: Int32 = accumulate ? 1 : 0
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let nr = Int(qqq_sgemm_nr())
        // Below ~2 MFLOP waking the pool costs more than it saves.
        let workers = flops < 2e6 ? 1 : max(1, threads)
        if workers == 1 {
            pool.withBuffer { s in
                call(p, Int64(m), Int64(n), Int64(k), a, Int64(lda), b, Int64(ldb), bType.code, bLayout.code,
                     c, Int64(ldc), acc, s)
            }
            return
        }
        let bElem = bType.byteSize
        if n >= nr * workers || m < 2 * workers || bType == .q4g128 {
            // Column blocks, multiples of NR so every thread runs full micro-tiles.
            let blocks = (n + nr - 1) / nr
            let per = (blocks + workers - 1) / workers
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let n0 = w * per * nr
                let n1 = min(n, n0 + per * nr)
                guard n0 < n1 else { return }
                // NK rows and packed strips (n0 is a multiple of NR, ldb = k) both start at n0 * ldb.
                let bOffset = bLayout == .kn ? n0 : n0 * ldb
                pool.withBuffer { s in
                    if bType == .q4g128 {
                        // Column blocks of a W4A16 matrix: a descriptor that starts at row n0.
                        var q = b.load(as: qqq_q4_matrix.self)
                        q.nibbles += n0 * Int(q.k / 2)
                        q.scales += n0 * Int((q.k + 127) / 128)
                        withUnsafePointer(to: &q) { qp in
                            call(p, Int64(m), Int64(n1 - n0), Int64(k), a, Int64(lda), qp, Int64(ldb),
                                 bType.code, bLayout.code, c + n0, Int64(ldc), acc, s)
                        }
                    } else {
                        call(p, Int64(m), Int64(n1 - n0), Int64(k), a, Int64(lda), b + bOffset * bElem, Int64(ldb),
                             bType.code, bLayout.code, c + n0, Int64(ldc), acc, s)
                    }
                }
            }
        } else {
            let per = (m + workers - 1) / workers
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let m0 = w * per
                let m1 = min(m, m0 + per)
                guard m0 < m1 else { return }
                pool.withBuffer { s in
                    call(p, Int64(m1 - m0), Int64(n), Int64(k), a + (aTransposed ? m0 : m0 * lda), Int64(lda), b, Int64(ldb),
                         bType.code, bLayout.code, c + m0 * ldc, Int64(ldc), acc, s)
                }
            }
        }
    }
}

extension Gemm {
    /// Upper triangle of a symmetric rank-k update: C(i, j) += Σ_p x[p][i]·x[p][j] for i ≤ j, with x
    /// [k][n] row-major (row stride ldx) and C [n][n] (ldc). Entries below the diagonal are not defined
    /// (tiles that cross it write some of them). Each computed entry has the bits the full GEMM XᵀX
    /// gives it. Threads take column ranges of equal area: column j holds j + 1 entries.
    public static func syrkUpper(n: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 threads: Int = Gemm.defaultThreads, path: KernelPath? = nil) {
        guard n > 0, k > 0 else { return }
        let p = code(path ?? defaultFloatPath)
        let nr = Int(qqq_sgemm_nr())
        let flops = Double(n) * Double(n) * Double(k)
        let workers = flops < 2e6 ? 1 : max(1, min(threads, (n + nr - 1) / nr))
        // Boundaries at n·sqrt(i/C) (in whole NR strips): C chunks of equal shares of the triangle's
        // area, four per worker, handed out dynamically (static halves left one core idle for ~7% of
        // the Hessian time of a calibration, perf on Zen 3). Entries do not depend on the split.
        let chunks = workers == 1 ? 1 : min(4 * workers, (n + nr - 1) / nr)
        let bounds = (0...chunks).map { w -> Int in
            w == chunks ? n : min(n, Int((Double(n) * (Double(w) / Double(chunks)).squareRoot() / Double(nr)).rounded()) * nr)
        }
        WorkSplit.tasks(chunks, threads: workers) { w, _ in
            guard bounds[w] < bounds[w + 1] else { return }
            pool.withBuffer { s in
                qqq_ssyrk_upper(p, Int64(n), Int64(k), x, Int64(ldx), Int64(bounds[w]), Int64(bounds[w + 1]), c, Int64(ldc), s)
            }
        }
    }
}


/// W4A16 weights for `Gemm.sgemm(bType: .q4g128)`: plain int4 nibbles [N][K/2] and fp16 scales
/// [N][ceil(K/128)], dequantized to fp32 inside the GEMM's panel packing.
public final class Q4G128Matrix: @unchecked Sendable {
    public let n: Int, k: Int
    public let nibbles: [UInt8]
    public let scales: [UInt16]
    private let descriptor: UnsafeMutablePointer<qqq_q4_matrix>

    public init(nibbles: [UInt8], scales: [UInt16], n: Int, k: Int) throws {
        guard k % 2 == 0, nibbles.count == n * k / 2, scales.count == n * ((k + 127) / 128) else {
            throw KernelError.badShape("W4A16 matrix \(n)x\(k): \(nibbles.count) nibble bytes, \(scales.count) scales")
        }
        self.n = n; self.k = k
        self.nibbles = nibbles
        self.scales = scales
        descriptor = .allocate(capacity: 1)
        descriptor.initialize(to: qqq_q4_matrix(nibbles: nil, scales: nil, k: Int64(k)))
    }

    deinit { descriptor.deallocate() }

    public var byteCount: Int { nibbles.count + scales.count * 2 }

    /// Runs `body` with the descriptor pointer to pass as `b`.
    public func withDescriptor<R>(_ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        try nibbles.withUnsafeBufferPointer { nb in
            try scales.withUnsafeBufferPointer { sb in
                descriptor.pointee.nibbles = nb.baseAddress
                descriptor.pointee.scales = sb.baseAddress
                return try body(UnsafeRawPointer(descriptor))
            }
        }
    }
}

extension Gemm {
    /// Elements of B(k, n) in the packed layout (n rounded up to whole strips).
    public static func packedCount(n: Int, k: Int) -> Int {
        let nr = Int(qqq_sgemm_nr())
        return (n + nr - 1) / nr * nr * k
    }

    /// Packs B (`layout` .nk: W[n][k], or .kn: B[k][n]; row stride `ldb`) into `dst` in the packed layout
    /// of depth k, stored as `type` (.f32, or .f16 from an .f16 .nk source). Pass `dst` with
    /// `bLayout: .packed, ldb: k` to `sgemm`.
    public static func pack(_ b: UnsafeRawPointer, type source: GemmBType, layout: GemmBLayout, n: Int, k: Int, ldb: Int,
                            into dst: UnsafeMutableRawPointer, as type: GemmBType = .f32, path: KernelPath? = nil) {
        precondition(layout != .packed && source != .q4g128, "Gemm.pack: B must be a plain .nk or .kn float matrix")
        precondition(type == .f32 || (type == .f16 && source == .f16 && layout == .nk), "Gemm.pack: fp16 strips need an fp16 NK source")
        qqq_sgemm_pack_b(code(path ?? defaultFloatPath), b, source.code, layout.code, Int64(n), Int64(k), Int64(ldb),
                         type.code, dst)
    }
}

/// A weight W[N][K] packed once (at load time) into the GEMM's strip layout: NR-column strips of
/// [K][NR], zero-padded past N, so no call re-packs it. Stored as fp32, or as fp16 from an fp16 source
/// (same bytes as the checkpoint; converted linearly inside the GEMM).
public final class PackedWeights: @unchecked Sendable {
    public let n: Int, k: Int
    public let type: GemmBType
    public let byteCount: Int
    public let storage: UnsafeMutableRawPointer

    /// Packs `w` (type `source`, row stride `ldw`); `source` .f16 keeps fp16, .f32/.bf16 give fp32.
    public init(_ w: UnsafeRawPointer, type source: GemmBType, n: Int, k: Int, ldw: Int? = nil, path: KernelPath? = nil) throws {
        guard source != .q4g128 else { throw KernelError.badShape("W4A16 weights are not pre-packed") }
        guard n > 0, k > 0 else { throw KernelError.badShape("packed weight \(n)x\(k)") }
        self.n = n; self.k = k
        type = source == .f16 ? .f16 : .f32
        byteCount = Gemm.packedCount(n: n, k: k) * type.byteSize
        storage = .allocate(byteCount: byteCount, alignment: 64)
        Gemm.pack(w, type: source, layout: .nk, n: n, k: k, ldb: ldw ?? k, into: storage, as: type, path: path)
    }

    deinit { storage.deallocate() }

    /// y[M][N] = x[M][K]·Wᵀ (+ accumulate).
    public func gemm(m: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                     accumulate: Bool = false, threads: Int = Gemm.defaultThreads, path: KernelPath? = nil) {
        Gemm.sgemm(m: m, n: n, k: k, a: x, lda: ldx, b: UnsafeRawPointer(storage), ldb: k, bType: type, bLayout: .packed,
                   c: y, ldc: ldy, accumulate: accumulate, threads: threads, path: path)
    }
}
