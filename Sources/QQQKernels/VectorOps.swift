import CQQQKernels

/// Row-wise helpers of the model (SIMD on AVX2, portable C elsewhere).
public enum VectorOps {
    static var path: Int32 { Gemm.code(Gemm.defaultFloatPath) }

    public static func f16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        qqq_f16_to_f32(path, src, dst, Int64(count))
    }

    public static func bf16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        qqq_bf16_to_f32(path, src, dst, Int64(count))
    }

    public static func f32ToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        qqq_f32_to_f16(path, src, dst, Int64(count))
    }

    /// out = x / sqrt(mean(x²) + eps) · w (w fp32; `weightType` must be .f32).
    public static func rmsNorm(x: UnsafePointer<Float>, weight: UnsafeRawPointer, weightType: GemmBType,
                               out: UnsafeMutablePointer<Float>, count: Int, eps: Float) {
        precondition(weightType == .f32, "rmsNorm takes fp32 weights")
        qqq_rms_norm(path, x, weight.assumingMemoryBound(to: Float.self), out, Int64(count), eps)
    }

    /// out = silu(gate) · up; out may alias gate.
    public static func siluMul(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
        qqq_silu_mul(path, gate, up, out, Int64(count))
    }

    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        qqq_softmax(path, x, Int64(count))
    }

    /// Causal attention scores: row r of `s` (leading dimension `ld`, `width` keys) becomes
    /// softmax(x · scale) over keys 0...i0 + r, the rest 0 (the same bits as scaling then `softmaxInPlace`).
    public static func causalSoftmax(_ s: UnsafeMutablePointer<Float>, ld: Int, rows: Int, firstQuery i0: Int, width: Int, scale: Float) {
        qqq_softmax_causal(path, s, Int64(ld), Int64(rows), Int64(i0), Int64(width), scale)
    }

    public static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Float {
        qqq_log_sum_exp(path, x, Int64(count))
    }

    /// Σ |scale·rne(clamp(x/scale, lo, hi)) − x|^p over `count` contiguous values (zero differences add
    /// 0), ~1e-6 relative to the exact sum; stops once the partial sum reaches `bound` (the result is
    /// then ≥ bound). One candidate of a clip search.
    public static func gridErrorPow(_ x: UnsafePointer<Float>, count: Int, scale: Float, lo: Float, hi: Float,
                                    power: Float, bound: Float = .infinity, path kernelPath: KernelPath? = nil) -> Float {
        qqq_grid_error_pow(kernelPath.map(Gemm.code) ?? path, x, Int64(count), scale, lo, hi, power, bound)
    }

    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        qqq_dot(path, x, y, Int64(count))
    }
}
