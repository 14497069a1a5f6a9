import Foundation
import QQQKernels

/// Causal grouped-query attention over one sequence (batched prefill). Work is cut into
/// (head, block of query rows) tasks, so at most `blockRows × tokens` scores per worker exist at any
/// time: never a T×T matrix per head for all heads.
final class CausalAttention {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let blockRows = 128
    private var scratch: [UnsafeMutablePointer<Float>] = []
    private var scratchTokens = 0

    init(heads: Int, kvHeads: Int, headDim: Int) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
    }

    deinit { scratch.forEach { $0.deallocate() } }

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
                           b: UnsafeRawPointer(k + kvh * d), ldb: ldkv, bType: .f32, bLayout: .nk,
                           c: s, ldc: i1, accumulate: false, threads: 1)
            }
            timer.measure("attention softmax (thread time)") {
                for r in 0..<rows {
                    let row = s + r * i1
                    let valid = i0 + r + 1
                    for j in 0..<valid { row[j] *= scale }
                    VectorOps.softmaxInPlace(row, count: valid)
                    for j in valid..<i1 { row[j] = 0 }
                }
            }
            // out[i0+r] = Σ_j p[r][j] v[j]
            timer.measure("attention p·v (thread time)") {
                Gemm.sgemm(m: rows, n: d, k: i1, a: s, lda: i1,
                           b: UnsafeRawPointer(v + kvh * d), ldb: ldkv, bType: .f32, bLayout: .kn,
                           c: out + i0 * ldo + h * d, ldc: ldo, accumulate: false, threads: 1)
            }
        }
    }
}
