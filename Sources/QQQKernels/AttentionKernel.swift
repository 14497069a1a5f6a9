import CQQQKernels

/// Fused causal attention of one head over a block of query rows (flash-style: key blocks of 64, an
/// online softmax; see `qqq_attention_causal` in `qqq_gemm.h`). Keys and values are read in the FP32
/// GEMM's packed layout: `Gemm.pack` K as `.nk` with depth d, V as `.kn` with depth `ldv` (the tokens).
public enum AttentionKernel {
    /// Floats of scratch one call of up to `rows` queries needs for head dimension `d` (every path).
    public static func scratchFloats(rows: Int, headDim d: Int) -> Int { Int(qqq_attention_scratch_floats(Int64(rows), Int64(d))) }

    /// out[r][c] = Σ_{j ≤ i0+r} softmax_j(scale · q[r]·k_j) · v_j[c] for r < rows, c < d. Single-threaded.
    public static func causal(rows: Int, firstQuery i0: Int, headDim d: Int, q: UnsafePointer<Float>, ldq: Int,
                              packedK: UnsafePointer<Float>, packedV: UnsafePointer<Float>, ldv: Int, scale: Float,
                              out: UnsafeMutablePointer<Float>, ldo: Int, scratch: UnsafeMutablePointer<Float>,
                              path: KernelPath? = nil) {
        guard rows > 0 else { return }
        precondition(i0 + rows <= ldv, "attention: queries beyond the packed values")
        qqq_attention_causal(Gemm.code(path ?? Gemm.defaultFloatPath), Int64(rows), Int64(i0), Int64(d), q, Int64(ldq),
                             packedK, packedV, Int64(ldv), scale, out, Int64(ldo), scratch)
    }
}
