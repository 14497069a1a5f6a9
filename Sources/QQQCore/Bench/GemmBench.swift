import Foundation
import QQQKernels

/// `qqq bench`: GEMM speed of every kernel over shapes, token counts, threads and CPU paths.
public enum GemmBench {
    public struct Shape: Codable, Sendable, Hashable {
        public let k: Int
        public let n: Int
        public let label: String
        public init(k: Int, n: Int, label: String) { self.k = k; self.n = n; self.label = label }
    }

    public struct Options: Sendable {
        public var shapes: [Shape]
        public var tokens: [Int]
        public var threads: [Int]
        public var kernels: [BenchKernel]
        public var paths: [KernelPath]
        public var hot: Bool
        public var minSeconds: Double
        /// Weights cycle through copies until this many bytes, unless `hot`.
        public var coldBytes: Int
        /// Four times the largest cache the CPU reports (32 MB L3 on Zen 3 and Zen 4, 260 MB on some Xeons),
        /// at least 256 MiB: AMD's L3 does not evict in LRU order, so with copies of twice its size some
        /// of a copy survived until its next turn (a prefetching GEMV then read "faster than DRAM").
        public static let defaultColdBytes = max(256 << 20, 4 * (CPUFeatures.lastLevelCacheBytes ?? 0))
        /// Measure the compute ceiling the cell's kernel runs against (FP32 FMA or int8 MAC) just before
        /// and just after each cell: on a shared machine the clock and the neighbours change within a run,
        /// so a fraction against a ceiling taken minutes earlier says more about the neighbours than the kernel.
        public var adjacentCeilings: Bool
        public init(shapes: [Shape], tokens: [Int], threads: [Int], kernels: [BenchKernel], paths: [KernelPath],
                    hot: Bool = false, minSeconds: Double = 0.3, coldBytes: Int = Options.defaultColdBytes, adjacentCeilings: Bool = false) {
            self.shapes = shapes; self.tokens = tokens; self.threads = threads; self.kernels = kernels
            self.paths = paths; self.hot = hot; self.minSeconds = minSeconds; self.coldBytes = coldBytes
            self.adjacentCeilings = adjacentCeilings
        }
    }

    public struct Cell: Codable, Sendable {
        public let shape: Shape
        public let m: Int
        public let threads: Int
        public let path: String
        public let kernel: BenchKernel
        public let copies: Int
        public let weightBytes: Int
        public let timing: BenchTiming
        public var gops: Double { 2 * Double(m) * Double(shape.n) * Double(shape.k) / timing.median / 1e9 }
        public var weightGBs: Double { Double(weightBytes) / timing.median / 1e9 }
        /// Filled after the run: speed relative to FP32 / FP16 in the same (shape, M, threads, path).
        public var speedupVsFP32: Double?
        public var speedupVsFP16: Double?
        /// With `adjacentCeilings`: the mean of the compute ceilings (GFLOP/s or int8 GOPS) measured just
        /// before and just after this cell, with its thread count and path.
        public var adjacentCeiling: Double?
        public var ceilingFraction: Double? { adjacentCeiling.map { gops / $0 } }

        enum CodingKeys: String, CodingKey {
            case shape, m, threads, path, kernel, copies, weightBytes, timing, gops, weightGBs, speedupVsFP32, speedupVsFP16
            case adjacentCeiling, ceilingFraction
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(shape, forKey: .shape); try c.encode(m, forKey: .m); try c.encode(threads, forKey: .threads)
            try c.encode(path, forKey: .path); try c.encode(kernel, forKey: .kernel); try c.encode(copies, forKey: .copies)
            try c.encode(weightBytes, forKey: .weightBytes); try c.encode(timing, forKey: .timing)
            try c.encode(gops, forKey: .gops); try c.encode(weightGBs, forKey: .weightGBs)
            try c.encodeIfPresent(speedupVsFP32, forKey: .speedupVsFP32); try c.encodeIfPresent(speedupVsFP16, forKey: .speedupVsFP16)
            try c.encodeIfPresent(adjacentCeiling, forKey: .adjacentCeiling); try c.encodeIfPresent(ceilingFraction, forKey: .ceilingFraction)
        }
        public init(from decoder: Decoder) throws { fatalError("not decoded") }
        init(shape: Shape, m: Int, threads: Int, path: String, kernel: BenchKernel, copies: Int, weightBytes: Int, timing: BenchTiming) {
            self.shape = shape; self.m = m; self.threads = threads; self.path = path; self.kernel = kernel
            self.copies = copies; self.weightBytes = weightBytes; self.timing = timing
        }
    }

    /// The default shapes: LLaMA-2-7B's and SmolLM2-135M's linears.
    public static let defaultShapes = [
        Shape(k: 4096, n: 4096, label: "llama2-7b q/k/v/o"), Shape(k: 4096, n: 11008, label: "llama2-7b gate/up"),
        Shape(k: 11008, n: 4096, label: "llama2-7b down"), Shape(k: 576, n: 576, label: "smollm2 q/o"),
        Shape(k: 576, n: 1536, label: "smollm2 gate/up"), Shape(k: 1536, n: 576, label: "smollm2 down"),
    ]

    /// The distinct linear shapes of a model config (q, k/v, o, gate/up, down).
    public static func shapes(of c: ModelConfig) -> [Shape] {
        let q = c.numHeads * c.headDim, kv = c.numKVHeads * c.headDim
        let all = [Shape(k: c.hiddenSize, n: q, label: "q_proj"), Shape(k: c.hiddenSize, n: kv, label: "k/v_proj"),
                   Shape(k: q, n: c.hiddenSize, label: "o_proj"), Shape(k: c.hiddenSize, n: c.intermediateSize, label: "gate/up_proj"),
                   Shape(k: c.intermediateSize, n: c.hiddenSize, label: "down_proj")]
        var seen = Set<[Int]>()
        return all.filter { seen.insert([$0.k, $0.n]).inserted }
    }

    /// Runs the grid; `progress(done, total, cell)` after each cell.
    public static func run(_ o: Options, progress: ((Int, Int, Cell) -> Void)? = nil) throws -> [Cell] {
        let total = o.shapes.count * o.kernels.count * o.paths.count * o.tokens.count * o.threads.count
        var cells: [Cell] = []
        let maxM = o.tokens.max() ?? 1
        for shape in o.shapes {
            var rng = SplitMix64(seed: UInt64(shape.k * 31 + shape.n))
            var x = [Float](repeating: 0, count: maxM * shape.k)
            for i in 0..<x.count { x[i] = Float(Int(rng.next() % 2001) - 1000) * 1e-3 }
            var y = [Float](repeating: 0, count: maxM * shape.n)
            for kernel in o.kernels {
                let prepared = try PreparedKernel(kernel: kernel, k: shape.k, n: shape.n, minBytes: o.hot ? 0 : o.coldBytes,
                                                  seed: UInt64(shape.k + shape.n))
                for path in o.paths {
                    for m in o.tokens {
                        for threads in o.threads {
                            func ceiling() -> Double? {
                                guard o.adjacentCeilings else { return nil }
                                return MachinePeaks.computeCeiling(kernel.sequence, threads: threads, path: path, iterations: 4_000_000)
                            }
                            let before = ceiling()
                            let timing = try x.withUnsafeBufferPointer { xp in
                                try y.withUnsafeMutableBufferPointer { yp in
                                    try BenchTiming.measure(minSeconds: o.minSeconds) { i in
                                        try prepared.run(x: xp.baseAddress!, m: m, y: yp.baseAddress!, copy: i, threads: threads, path: path)
                                    }
                                }
                            }
                            let after = ceiling()
                            var cell = Cell(shape: shape, m: m, threads: threads, path: path.rawValue, kernel: kernel,
                                            copies: prepared.copies, weightBytes: prepared.bytesPerCopy, timing: timing)
                            if let before, let after { cell.adjacentCeiling = (before + after) / 2 }
                            cells.append(cell)
                            progress?(cells.count, total, cell)
                        }
                    }
                }
            }
        }
        for i in cells.indices {
            let c = cells[i]
            func base(_ k: BenchKernel) -> Cell? {
                cells.first { $0.kernel == k && $0.shape == c.shape && $0.m == c.m && $0.threads == c.threads && $0.path == c.path }
            }
            if let f = base(.fp32) { cells[i].speedupVsFP32 = f.timing.median / c.timing.median }
            if let f = base(.fp16) { cells[i].speedupVsFP16 = f.timing.median / c.timing.median }
        }
        return cells
    }
}

