import Foundation
import Testing
import CQQQKernels
@testable import QQQKernels

/// Plain reference: C = (acc ? C : 0) + A·B in Double.
func referenceGemm(m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int, layout: GemmBLayout,
                   c: inout [Float], ldc: Int, accumulate: Bool, aTransposed: Bool = false) {
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let bv = layout == .nk ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(aTransposed ? a[p * lda + i] : a[i * lda + p]) * Double(bv)
            }
            c[i * ldc + j] = Float((accumulate ? Double(c[i * ldc + j]) : 0) + s)
        }
    }
}

/// Test randomness: SplitMix64 with a float helper in [-1, 1).
struct TestRNG {
    var base: SplitMix64
    init(state: UInt64) { base = SplitMix64(seed: state) }
    mutating func next() -> UInt64 { base.next() }
    mutating func float() -> Float { base.nextSigned() }
}

@Suite("FP32 GEMM vs scalar reference")
struct GemmTests {
    /// The FP32 code exists as AVX-512, AVX2 and portable copies (AVX-VNNI runs the AVX2 one).
    static let paths = CPUFeatures.host.supportedPaths.filter { $0 == .avx512 || $0 == .avx2 || $0 == .portable }

    static func run(m: Int, n: Int, k: Int, type: GemmBType, layout: GemmBLayout, accumulate: Bool, threads: Int, path: KernelPath,
                    aTransposed: Bool = false) -> Float {
        var rng = TestRNG(state: UInt64(m * 1_000_003 + n * 1009 + k))
        let lda = aTransposed ? m + 3 : k + 3, ldc = n + 5
        // .packed: the weight is given as NK (row stride k + 2) and packed once by PackedWeights.
        let ldb = layout == .kn ? n + 1 : k + 2
        let bRows = layout == .kn ? k : n
        let a = (0..<((aTransposed ? k : m) * lda)).map { _ in rng.float() }
        var bf = (0..<(bRows * ldb)).map { _ in rng.float() }
        // Round weights to the stored type so the reference sees the same values.
        switch type {
        case .f16: bf = bf.map { Float(Float16($0)) }
        case .bf16: bf = bf.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
        case .f32, .q4g128: break
        }
        let braw: [UInt8] = {
            switch type {
            case .f32, .q4g128: return bf.withUnsafeBytes { Array($0) }
            case .f16: return bf.map { Float16($0).bitPattern }.withUnsafeBytes { Array($0) }
            case .bf16: return bf.map { UInt16($0.bitPattern >> 16) }.withUnsafeBytes { Array($0) }
            }
        }()
        let c0 = (0..<(m * ldc)).map { _ in rng.float() }
        var want = c0
        referenceGemm(m: m, n: n, k: k, a: a, lda: lda, b: bf, ldb: ldb, layout: layout == .kn ? .kn : .nk, c: &want, ldc: ldc,
                      accumulate: accumulate, aTransposed: aTransposed)
        var got = c0
        if layout == .packed {
            let packed = braw.withUnsafeBytes { try! PackedWeights($0.baseAddress!, type: type, n: n, k: k, ldw: ldb, path: path) }
            a.withUnsafeBufferPointer { ap in
                got.withUnsafeMutableBufferPointer { cp in
                    Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: UnsafeRawPointer(packed.storage), ldb: k,
                               bType: packed.type, bLayout: .packed, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate,
                               aTransposed: aTransposed, threads: threads, path: path)
                }
            }
        } else {
        braw.withUnsafeBytes { bp in
            a.withUnsafeBufferPointer { ap in
                got.withUnsafeMutableBufferPointer { cp in
                    Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, bType: type,
                               bLayout: layout, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate, aTransposed: aTransposed,
                               threads: threads, path: path)
                }
            }
        }
        }
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<ldc {
                let idx = i * ldc + j
                if j >= n { if got[idx] != c0[idx] { return .infinity }; continue }  // padding untouched
                // Error relative to the scale of the sum (|a|,|b| <= 1): sqrt(k) growth of fp32 rounding.
                worst = max(worst, abs(got[idx] - want[idx]) / Float(max(1, k)).squareRoot())
            }
        }
        return worst
    }

    @Test(arguments: [(1, 1, 1), (1, 577, 576), (2, 33, 7), (3, 7, 64), (5, 17, 1536), (17, 33, 576), (64, 129, 4099), (300, 31, 65),
                      (7, 1041, 520), (197, 1043, 300)])
    func matchesReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for path in Self.paths {
            for type in [GemmBType.f32, .f16, .bf16] {
                for layout in [GemmBLayout.nk, .kn, .packed] {
                    for (acc, threads) in [(false, 1), (true, 2)] {
                        let err = Self.run(m: m, n: n, k: k, type: type, layout: layout, accumulate: acc, threads: threads, path: path)
                        #expect(err < 2e-6, "path \(path) \(type) \(layout) acc \(acc) threads \(threads) m\(m) n\(n) k\(k): \(err)")
                    }
                }
            }
        }
    }

    /// A stored transposed ([K][M], the Hessian's Xᵀ X): fused and blocked row paths, odd M and K.
    @Test(arguments: [(1, 5, 3), (5, 17, 1536), (17, 33, 576), (192, 577, 2048), (197, 300, 515)])
    func transposedAMatchesReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for path in Self.paths {
            for layout in [GemmBLayout.nk, .kn, .packed] {
                for (acc, threads) in [(false, 1), (true, 2)] {
                    let err = Self.run(m: m, n: n, k: k, type: .f32, layout: layout, accumulate: acc, threads: threads, path: path,
                                       aTransposed: true)
                    #expect(err < 2e-6, "path \(path) \(layout) acc \(acc) threads \(threads) m\(m) n\(n) k\(k): \(err)")
                }
            }
        }
    }

    /// The documented strip layout: B(k, n) at (n / NR) * NR * K + k * NR + n % NR, zeros past N; fp16 kept bit for bit.
    @Test func packedLayoutIsTheDocumentedStrips() throws {
        let (n, k, ldw) = (37, 70, 73)
        let nr = Int(qqq_sgemm_nr())
        let w = (0..<(n * ldw)).map { Float($0 % 1000) * 0.25 + 1 }
        let p32 = try w.withUnsafeBytes { try PackedWeights($0.baseAddress!, type: .f32, n: n, k: k, ldw: ldw) }
        let h = w.map { Float16($0).bitPattern }
        let p16 = try h.withUnsafeBytes { try PackedWeights($0.baseAddress!, type: .f16, n: n, k: k, ldw: ldw) }
        #expect(p32.type == .f32 && p16.type == .f16)
        #expect(p32.byteCount == (n + nr - 1) / nr * nr * k * 4)
        let f = p32.storage.assumingMemoryBound(to: Float.self), g = p16.storage.assumingMemoryBound(to: UInt16.self)
        for col in 0..<((n + nr - 1) / nr * nr) {
            for row in 0..<k {
                let at = (col / nr) * nr * k + row * nr + col % nr
                #expect(f[at] == (col < n ? w[col * ldw + row] : 0))
                #expect(g[at] == (col < n ? h[col * ldw + row] : 0))
            }
        }
    }

    /// B given as KN (B[k][n], row stride ldb, e.g. attention's V) packed once, then used at depths
    /// k' <= K (a causal block uses only its first keys): the packed depth is ldb, not the call's k.
    @Test(arguments: [(5, 64, 300), (130, 17, 2048), (3, 37, 70)])
    func packedFromKNAtShorterDepths(shape: (Int, Int, Int)) {
        let (m, n, depth) = shape
        var rng = TestRNG(state: UInt64(m + n * 3 + depth))
        let ldb = n + 7
        let b = (0..<(depth * ldb)).map { _ in rng.float() }
        let packed = UnsafeMutableRawPointer.allocate(byteCount: Gemm.packedCount(n: n, k: depth) * 4, alignment: 64)
        defer { packed.deallocate() }
        for path in Self.paths {
            b.withUnsafeBytes { Gemm.pack($0.baseAddress!, type: .f32, layout: .kn, n: n, k: depth, ldb: ldb, into: packed, path: path) }
            for k in [depth, depth / 2 + 1, 1] {
                let a = (0..<(m * k)).map { _ in rng.float() }
                var want = [Float](repeating: 0, count: m * n)
                referenceGemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: ldb, layout: .kn, c: &want, ldc: n, accumulate: false)
                var got = [Float](repeating: .nan, count: m * n)
                Gemm.sgemm(m: m, n: n, k: k, a: a, lda: k, b: UnsafeRawPointer(packed), ldb: depth, bType: .f32, bLayout: .packed,
                           c: &got, ldc: n, threads: 2, path: path)
                let err = zip(got, want).map { abs($0 - $1) }.max()! / Float(k).squareRoot()
                #expect(err < 2e-6, "path \(path) m\(m) n\(n) k\(k) of \(depth): \(err)")
            }
        }
    }

    /// The Hessian's symmetric rank-k update: every entry on or above the diagonal has the bits of the
    /// full XᵀX GEMM (same path) added to what C held, and is close to a Double reference; fused (n <= 192)
    /// and blocked row paths, more than one column block (n > 1024), odd n and k, 1-3 threads.
    @Test(arguments: [(1, 1), (7, 5), (17, 300), (100, 64), (193, 33), (577, 129), (1100, 40)])
    func syrkUpperMatchesFullProduct(shape: (Int, Int)) {
        let (n, k) = shape
        var rng = TestRNG(state: UInt64(n * 7919 + k))
        let ldx = n + 3, ldc = n + 1
        let x = (0..<(k * ldx)).map { _ in rng.float() }
        let c0 = (0..<(n * ldc)).map { _ in rng.float() }
        var want = c0
        referenceGemm(m: n, n: n, k: k, a: x, lda: ldx, b: x, ldb: ldx, layout: .kn, c: &want, ldc: ldc, accumulate: true,
                      aTransposed: true)
        for path in Self.paths {
            var full = c0
            Gemm.sgemm(m: n, n: n, k: k, a: x, lda: ldx, b: x, ldb: ldx, bType: .f32, bLayout: .kn, c: &full, ldc: ldc,
                       accumulate: true, aTransposed: true, threads: 1, path: path)
            for threads in [1, 2, 3] {
                var got = c0
                x.withUnsafeBufferPointer { xp in
                    Gemm.syrkUpper(n: n, k: k, x: xp.baseAddress!, ldx: ldx, c: &got, ldc: ldc, threads: threads, path: path)
                }
                var differing = 0
                var worst: Float = 0
                for i in 0..<n {
                    for j in i..<n {
                        if got[i * ldc + j].bitPattern != full[i * ldc + j].bitPattern { differing += 1 }
                        // The diagonal sums squares (no cancellation): relative to the larger of √k and the value.
                        let w = want[i * ldc + j]
                        worst = max(worst, abs(got[i * ldc + j] - w) / max(Float(k).squareRoot(), abs(w)))
                    }
                    if got[i * ldc + n] != c0[i * ldc + n] { differing += 1 }  // padding column untouched
                }
                #expect(differing == 0, "path \(path) threads \(threads) n\(n) k\(k): \(differing) entries differ from the full GEMM")
                #expect(worst < 2e-6, "path \(path) threads \(threads) n\(n) k\(k): \(worst)")
            }
        }
    }

    @Test func zeroKClearsOrKeeps() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [0], b: [Float] = [0]
        Gemm.sgemm(m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 1, bType: .f32, bLayout: .nk, c: &c, ldc: 2, accumulate: true, threads: 1)
        #expect(c == [1, 2, 3, 4])
        Gemm.sgemm(m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 1, bType: .f32, bLayout: .nk, c: &c, ldc: 2, accumulate: false, threads: 1)
        #expect(c == [0, 0, 0, 0])
    }

    @Test func pathsReported() {
        let skipped = KernelPath.allCases.filter { !CPUFeatures.host.supports($0) }
        print("GEMM paths tested: \(Self.paths.map(\.rawValue)); skipped (CPU lacks them): \(skipped.map(\.rawValue))")
        #expect(Self.paths.contains(.portable))
    }
}

@Suite("W4A16 GEMM vs scalar reference")
struct W4A16Tests {
    @Test(arguments: [(1, 1, 128), (2, 33, 576), (5, 577, 96), (64, 31, 1536), (130, 17, 640)])
    func matchesDequantizedReference(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        var rng = TestRNG(state: UInt64(m * 31 + n * 7 + k))
        let groups = (k + 127) / 128
        let nib = (0..<(n * k / 2)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let scales = (0..<(n * groups)).map { _ in Float16(0.001 + abs(rng.float()) * 0.05).bitPattern }
        var w = [Float](repeating: 0, count: n * k)
        for r in 0..<n {
            for c in 0..<k {
                let b = nib[r * k / 2 + c / 2]
                let v = Int(c % 2 == 0 ? b & 15 : b >> 4)
                w[r * k + c] = Float(v < 8 ? v : v - 16) * Float(Float16(bitPattern: scales[r * groups + c / 128]))
            }
        }
        let a = (0..<(m * k)).map { _ in rng.float() }
        var want = [Float](repeating: 0, count: m * n)
        referenceGemm(m: m, n: n, k: k, a: a, lda: k, b: w, ldb: k, layout: .nk, c: &want, ldc: n, accumulate: false)
        let matrix = try Q4G128Matrix(nibbles: nib, scales: scales, n: n, k: k)
        for path in GemmTests.paths {
            for threads in [1, 2] {
                var got = [Float](repeating: 0, count: m * n)
                matrix.withDescriptor { d in
                    Gemm.sgemm(m: m, n: n, k: k, a: a, lda: k, b: d, ldb: k, bType: .q4g128, bLayout: .nk,
                               c: &got, ldc: n, threads: threads, path: path)
                }
                let scale = w.map { abs($0) }.max()! * Float(k).squareRoot()
                let err = zip(got, want).map { abs($0 - $1) }.max()! / scale
                #expect(err < 2e-6, "path \(path) threads \(threads) m\(m) n\(n) k\(k): \(err)")
            }
        }
    }
}
