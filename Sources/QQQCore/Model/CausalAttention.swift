import Foundation
import QQQKernels

/// Causal grouped-query attention over one sequence (batched prefill). K and V of each KV head are
/// packed once per call into the GEMM's strip layout; then (head, block of query rows) tasks run the
/// fused kernel (`AttentionKernel`: key blocks of 64 with an online softmax), so no worker ever holds
/// more than a tile × 64 scores: never a T×T matrix, and no rows × T score matrix either.
final class CausalAttention {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let blockRows = 96
    private var scratch: [UnsafeMutablePointer<Float>] = []
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

    private func ensureScratch(workers: Int) {
        let floats = AttentionKernel.scratchFloats(rows: blockRows, headDim: headDim)
        while scratch.count < workers { scratch.append(.allocate(capacity: floats)) }
    }

    /// out[t][h*headDim...] = softmax(q_h[t]·k_{g(h)}[0...t]ᵀ / sqrt(d)) · v_{g(h)}[0...t]
    func run(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
             out: UnsafeMutablePointer<Float>, ldo: Int, tokens: Int, threads: Int) {
        let workers = max(1, threads)
        ensureScratch(workers: workers)
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
            let rows = min(tokens, i0 + blockRows) - i0
            StageTimer.shared.measure("attention (thread time)") {
                AttentionKernel.causal(rows: rows, firstQuery: i0, headDim: d, q: q + i0 * ldq + h * d, ldq: ldq,
                                       packedK: packedK[kvh], packedV: packedV[kvh], ldv: tokens, scale: scale,
                                       out: out + i0 * ldo + h * d, ldo: ldo, scratch: scratch[worker])
            }
        }
    }
}
