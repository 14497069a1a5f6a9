import QQQKernels

/// A quantized linear as the calibration forward runs it (`--forward-kernels`), for the Hessians of the
/// later sub-layers and the next layer's inputs.
enum CalibrationLinear {
    /// The reference's forward: fake-quantized weights [N][K] and float activations (W4A16 arithmetic).
    case float([Float], n: Int, k: Int)
    /// The deployed arithmetic: per-token int8 activations and the W4A8 integer kernels (the checkpoint's
    /// integers). On AVX2 per-channel runs ~1.7× the FP32 rate, per-group about at it (s8×s8 sequence).
    case int(W4A8Linear)

    init(_ packed: QQQPackedLinear, kernels: String, name: String) throws {
        if kernels == "int" {
            self = .int(W4A8Linear(weights: try packed.intWeights(), bias: nil, name: name))
        } else {
            self = .float(packed.effectiveWeight(), n: packed.rows, k: packed.columns)
        }
    }

    /// out[T][n] = x[T][k] · Wᵀ over the window's tokens (no bias: the caller adds q/k/v biases).
    func apply(_ x: UnsafePointer<Float>, math: LayerMath, out: UnsafeMutablePointer<Float>) throws {
        switch self {
        case let .float(w, n, k):
            math.linear(x, w, n: n, k: k, out: out)
        case let .int(op):
            try op.apply(x, rows: math.tokens, ldx: op.inFeatures, into: out, ldy: op.outFeatures, threads: math.threads)
        }
    }
}
