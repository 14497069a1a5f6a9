import Foundation
import Testing
@testable import QQQKernels

@Suite("Integer kernels vs scalar reference")
struct IntGemmTests {
    /// Every path this CPU runs (AVX-VNNI and AVX-512 have their own vpdpbusd kernels).
    static let paths = CPUFeatures.host.supportedPaths

    static func randomNibbles(n: Int, k: Int, rng: inout TestRNG, perChannel: Bool) -> [UInt8] {
        (0..<(n * k / 2)).map { _ in
            func q() -> UInt8 {
                let v = perChannel ? Int(rng.next() % 15) - 7 : Int(rng.next() % 16) - 8
                return UInt8(v & 15)
            }
            return q() | (q() << 4)
        }
    }

    /// Runs one format and compares accumulators (exact) and outputs (exact: same float operations).
    static func check(format: IntWeights.Format, m: Int, n: Int, k: Int, threads: Int, path: KernelPath, bias: Bool) throws {
        var rng = TestRNG(state: UInt64(m * 7919 + n * 104_729 + k))
        var x = (0..<(m * k)).map { _ in rng.float() * 3 }
        if m > 1 { for i in 0..<k { x[k + i] = 0 } }  // an all-zero token
        let scale = (0..<n).map { _ in 0.01 + abs(rng.float()) }
        let biasValues = bias ? (0..<n).map { _ in rng.float() } : nil
        let groups = (k + 127) / 128
        let weights: IntWeights
        let wantAcc: [Int32]
        let (a, sigma) = IntGemmReference.quantize(x, m: m, k: k)
        switch format {
        case .w8PerChannel:
            let w8 = (0..<(n * k)).map { _ in Int8(Int(rng.next() % 255) - 127) }
            weights = try IntWeights.w8(weights: w8, n: n, k: k, scale: scale)
            wantAcc = IntGemmReference.w8Accumulators(a: a, m: m, w: w8, n: n, k: k)
        case .w4PerChannel, .w4PerGroup128:
            let pc = format == .w4PerChannel
            let plain = randomNibbles(n: n, k: k, rng: &rng, perChannel: pc)
            // Group ratios up to ~18 as QQQ's s_group, some making |q·s| exceed 127 (clamped).
            let sg: [UInt16]? = pc ? nil : (0..<(n * groups)).map { _ in Float16(0.5 + abs(rng.float()) * 17.5).bitPattern }
            weights = try IntWeights.w4(plainNibbles: plain, n: n, k: k, scale: scale, sGroup: sg)
            #expect(weights.unpackNibbles() == plain, "repack round trip")
            wantAcc = IntGemmReference.w4Accumulators(a: a, m: m, plain: plain, n: n, k: k, sGroup: sg)
        }
        let acts = QuantizedActivations(capacity: m, k: k)
        try acts.quantize(x, m: m, ldx: k, threads: threads, path: path)
        #expect(Array(UnsafeBufferPointer(start: acts.a, count: m * k)) == a, "activation codes \(path)")
        #expect(Array(UnsafeBufferPointer(start: acts.sigma, count: m)) == sigma)
        var y = [Float](repeating: .nan, count: m * n)
        var acc = [Int32](repeating: 0, count: m * n)
        try biasValues.withUnsafeBufferPointerOrNil { b in
            try IntGemm.run(acts, weights: weights, bias: b, y: &y, ldy: n, threads: threads, path: path, acc: &acc, ldacc: n)
        }
        #expect(acc == wantAcc, "\(format) \(path) m\(m) n\(n) k\(k) t\(threads): accumulators differ")
        let wantY = IntGemmReference.epilogue(acc: wantAcc, m: m, n: n, scale: scale, sigma: sigma, bias: biasValues)
        #expect(y == wantY, "\(format) \(path) m\(m) n\(n) k\(k): outputs differ")
    }

    /// M < 16 runs the pair-chunk tile, M >= 16 the panel kernels: AVX2 (per-channel; 8-output strips,
    /// 6-token tiles, 96-token blocks) and VNNI (every format; 16/32-output strips, 6/12-token tiles,
    /// 240-token blocks, k blocks of 1024): partial strips, tiles and blocks, a short last group (K = 160),
    /// a ragged last k block (K = 2080: 1024 + 1024 + 32), a thread split inside a strip; one token with
    /// K past the per-group GEMV's 16 KiB |a| buffer (K = 16416 takes the general tile).
    @Test(arguments: [(1, 1, 96), (1, 577, 576), (3, 31, 1536), (15, 16, 64), (16, 16, 32), (17, 33, 576),
                      (64, 7, 4096), (97, 129, 160), (200, 48, 1536), (300, 31, 96), (16, 45, 1056),
                      (250, 67, 2080), (241, 3, 4128), (1, 130, 4096), (1, 9, 16416)])
    func allFormatsAllPaths(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        for path in Self.paths {
            for format in [IntWeights.Format.w4PerChannel, .w4PerGroup128, .w8PerChannel] {
                try Self.check(format: format, m: m, n: n, k: k, threads: m % 2 == 0 || n > 100 ? 2 : 1, path: path, bias: n % 2 == 1)
            }
        }
    }

    @Test func kNotMultipleOf32IsRejected() {
        let nib = [UInt8](repeating: 0, count: 100)
        #expect(throws: KernelError.self) { try IntWeights.w4(plainNibbles: nib, n: 2, k: 100, scale: [1, 1]) }
    }

    @Test func nonFiniteActivationIsAnError() {
        let acts = QuantizedActivations(capacity: 2, k: 32)
        var x = [Float](repeating: 1, count: 64)
        x[40] = .nan
        for path in Self.paths {
            #expect(throws: KernelError.self) { try acts.quantize(x, m: 2, ldx: 32, path: path) }
        }
        x[40] = .infinity
        #expect(throws: KernelError.self) { try acts.quantize(x, m: 2, ldx: 32) }
    }

    @Test func roundHalfEvenAndRange() throws {
        // max 127 -> sigma 1: 2.5 -> 2, 3.5 -> 4, -2.5 -> -2; -127 is the smallest code.
        var x = [Float](repeating: 0, count: 32)
        x[0] = 127; x[1] = 2.5; x[2] = 3.5; x[3] = -2.5; x[4] = -127
        for path in Self.paths {
            let acts = QuantizedActivations(capacity: 1, k: 32)
            try acts.quantize(x, m: 1, ldx: 32, path: path)
            #expect(acts.sigma[0] == 1)
            #expect([acts.a[0], acts.a[1], acts.a[2], acts.a[3], acts.a[4]] == [127, 2, 4, -2, -127])
            #expect(acts.ua[4] == 1)
        }
    }

    @Test func pathsCovered() {
        let skipped = KernelPath.allCases.filter { !Self.paths.contains($0) }
        print("int8 paths tested: \(Self.paths.map { "\($0) (\(IntKernels.implementedPath($0)) code)" }); "
              + "skipped (CPU lacks them): \(skipped.map(\.rawValue)); the VNNI kernels are also checked "
              + "under emulation by scripts/check-emulated-kernels")
        #expect(Self.paths.contains(.portable))
        // An AVX-512 CPU without AVX512-VNNI runs the AVX2 int8 code.
        let skylakeX = CPUFeatures(avx2: true, avxVNNI: false, avx512: true, avx512VNNI: false, neon: false)
        #expect(IntKernels.implementedPath(.avx512, cpu: skylakeX) == .avx2)
        let zen4 = CPUFeatures(avx2: true, avxVNNI: false, avx512: true, avx512VNNI: true, neon: false)
        #expect(IntKernels.implementedPath(.avx512, cpu: zen4) == .avx512)
    }

    @Test func forcedPathTheCPULacksIsAnError() {
        for path in KernelPath.allCases where !CPUFeatures.host.supports(path) {
            #expect(throws: KernelError.self) { try KernelDispatch.resolve(path.rawValue) }
            print("skipped: \(path) (CPU lacks it)")
        }
        #expect(throws: KernelError.self) { try KernelDispatch.resolve("sse9") }
    }
}

extension Optional where Wrapped == [Float] {
    func withUnsafeBufferPointerOrNil<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        switch self {
        case .none: return try body(nil)
        case let .some(array): return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
        }
    }
}
