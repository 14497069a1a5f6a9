/// Every choice `qqq quantize` makes, recorded in the checkpoint's `quantization_config.meta`.
public struct QuantizeOptions: Codable, Sendable {
    /// -1 per-channel, 128 per-group (two-level QQQ format).
    public var groupSize: Int = 128
    public var calibration: String = ""
    public var nsamples: Int = 128
    public var seqlen: Int = 2048
    public var seed: UInt64 = 0
    /// Offline Hadamard rotation of the residual stream and of each head's v→o path before smoothing
    /// and GPTQ (QQQ-METHOD §3; the reference's `--rotation`): norms fused into the linears that read
    /// them, the embeddings untied (a rotated table and a rotated lm_head are written).
    public var rotate: Bool = false
    /// Adaptive smoothing (QQQ-METHOD §2).
    public var smooth: Bool = true
    /// Windows the smoothing search runs on (the reference uses its first batch of 8).
    public var smoothSamples: Int = 4
    /// Tokens each candidate evaluation of the search sees (0 = all of the windows): the q/k/v group
    /// runs on the first ceil(smoothTokens/seqlen) windows (attention needs whole windows), the MLP
    /// groups on an evenly strided subset of the tokens of all windows. Channel statistics and the
    /// scales always use every token of the windows.
    public var smoothTokens: Int = 4096
    /// "coarse": every 8th candidate, then the full grid around the best; "full": all candidates (reference).
    public var smoothSearch: String = "coarse"
    /// How a candidate's W4/A8 outputs are computed: "int" through the integer W4A8 kernels (the
    /// reference's integers exactly per-channel; per-group the same codes in the two-level format the
    /// checkpoint uses), "float" by fake quantization and the FP32 GEMM as the reference does, "auto" int
    /// per-channel and float per-group (measured: neither grid is consistently better per-group).
    public var smoothKernels: String = "auto"
    /// Group 2 of the search, v→o (o_proj's input scaled, the inverse folded into v_proj's rows):
    /// "shared" with any head layout, each v channel's scale shared by the query heads that read it
    /// (grouped-query attention); "mha" only when the KV head count equals the head count (the
    /// reference); "off" never.
    public var smoothVO: String = "shared"
    /// The candidates' 4-bit weight scales from GPTQ's clip search on the same absmax/7 grid instead of
    /// absmax/7 itself (the reference's smoothing loss): closer to what GPTQ with `mse` finally writes.
    public var smoothClip: Bool = false
    /// The CLI's default for `smoothClip`: on per channel, where scoring the weights GPTQ writes made
    /// smoothing pay (stop 23, full test set: 36.62 against GPTQ-only's 39.09); off per
    /// group, where it scored worse (28.55 -> 29.22; why is not isolated).
    public static func smoothClipByDefault(groupSize: Int) -> Bool { groupSize == -1 }
    /// GPTQ Hessian compensation; false gives round-to-nearest with the same formats (the RTN baseline).
    public var gptq: Bool = true
    /// How the calibration forward runs each linear once it is quantized (the inputs of the later
    /// sub-layers' Hessians and of the next layer): "int" the W4A8 integer kernels with per-token int8
    /// activations (the deployed model's arithmetic), "float" fake-quantized weights with float
    /// activations (the reference: W4A16 arithmetic).
    public var forwardKernels: String = "int"
    /// The clip search of the weight scales (QQQ-METHOD 4.3; the reference's CLI default, off in the
    /// paper's smoothing recipe). The CLI turns it on with GPTQ and off for the RTN baseline.
    public var mse: Bool = true
    public var actOrder: Bool = true
    public var percDamp: Double = 0.01
    public var blockSize: Int = 128
    public var threads: Int = 1

    public init() {}
}
