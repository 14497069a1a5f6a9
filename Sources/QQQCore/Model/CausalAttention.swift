import Foundation
import QQQKernels

/// Causal grouped-query attention over one sequence (batched prefill). Work is cut into
/// (head, block of query rows) tasks, so at most `blockRows × tokens` scores per worker exist at any
/// time: never a T×T matrix per head for all heads. K and V of each KV head are packed once per call
/// into the GEMM's strip layout: every query block of every head of the group then reads them in place
/// (before, each of the heads × blocks GEMMs re-packed its keys and values).
final class CausalAttention {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let blockRows = 128
    private var scratch: [UnsafeMutablePointer<Float>] = []
    private var scratchTokens = 0
    private var packedK: [UnsafeMutablePointer<Float>] = []  // per KV head: B(k=dim, n=key) packed, depth headDim
    private var packedV: [UnsafeMutablePointer<Float>] = []  // per KV head: B(k=key, n=dim) packed, depth tokens
    private var packedTokens = 0

    init(heads: Int, kvHeads: Int, headDim: Int) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
    }

    deinit {
        scratch.forEach { $0.deallocate() }
        packedK.forEach { $0.deallocate() }
        packedV.forEach { $0.deallocate() }
    }

    private func ensurePacked(tokens: Int) {
        if tokens <= packedTokens { return }
        packedK.forEach { $0.deallocate() }
        packedV.forEach { $0.deallocate() }
        packedTokens = tokens
        packedK = (0..<kvHeads).map { _ in .allocate(capacity: Gemm.packedCount(n: tokens, k: headDim)) }
        packedV = (0..<kvHeads).map { _ in .allocate(capacity: Gemm.packedCount(n: headDim, k: tokens)) }
    }

    private func ensureScratch(tokens: Int, workers: Int) {
        if tokens <= scratchTokens && scratch.count >= workers { return }
        scratch.forEach { $0.deallocate() }
        scratchTokens = max(tokens, scratchTokens)
        scratch = (0..<workers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: blockRows * scratchTokens) }
    }

    /// out[t][h*headDim...] = softmax(q_h[t]·k_{g(h)}[0...t]ᵀ / sqrt(d)) · v_{g(h)}[0...t]
    func run(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
             out: UnsafeMutablePointer<Float>, ldo: Int, tokens: Int, threads: Int) {
        let workers = max(1, threads)
        ensureScratch(tokens: tokens, workers: workers)
        let blocks = (tokens + blockRows - 1) / blockRows
        let group = heads / kvHeads
        let scale = 1 / Float(headDim).squareRoot()
        let d = headDim
        ensurePacked(tokens: tokens)
        let (packedK, packedV) = (self.packedK, self.packedV)
        parallelTasks(2 * kvHeads, threads: workers) { task, _ in
            let kvh = task / 2
            if task % 2 == 0 {
                Gemm.pack(UnsafeRawPointer(k + kvh * d), type: .f32, layout: .nk, n: tokens, k: d, ldb: ldkv, into: packedK[kvh])
            } else {
                Gemm.pack(UnsafeRawPointer(v + kvh * d), type: .f32, layout: .kn, n: d, k: tokens, ldb: ldkv, into: packedV[kvh])
            }
        }
        let scratch = self.scratch
        let blockRows = self.blockRows
        // Later blocks see more keys and cost more: hand them out first.
        parallelTasks(blocks * heads, threads: workers) { task, worker in
            let b = blocks - 1 - task / heads
            let h = task % heads
            let kvh = h / group
            let i0 = b * blockRows
            let i1 = min(tokens, i0 + blockRows)
            let rows = i1 - i0
            let s = scratch[worker]
            let timer = StageTimer.shared
            // scores[r][j] = q[i0+r]·k[j], j < i1
            timer.measure("attention q·kᵀ (thread time)") {
                Gemm.sgemm(m: rows, n: i1, k: d, a: q + i0 * ldq + h * d, lda: ldq,
                           b: UnsafeRawPointer(packedK[kvh]), ldb: d, bType: .f32, bLayout: .packed,
                           c: s, ldc: i1, accumulate: false, threads: 1)
            }
            timer.measure("attention softmax (thread time)") {
                VectorOps.causalSoftmax(s, ld: i1, rows: rows, firstQuery: i0, width: i1, scale: scale)
            }
            // out[i0+r] = Σ_j p[r][j] v[j]
            timer.measure("attention p·v (thread time)") {
                Gemm.sgemm(m: rows, n: d, k: i1, a: s, lda: i1,
                           b: UnsafeRawPointer(packedV[kvh]), ldb: tokens, bType: .f32, bLayout: .packed,
                           c: out + i0 * ldo + h * d, ldc: ldo, accumulate: false, threads: 1)
            }
        }
    }
}
