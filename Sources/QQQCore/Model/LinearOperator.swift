import QQQKernels

/// A linear layer `y = x·Wᵀ (+ b)` over rows of fp32 activations. The model does not care how the
/// weight is stored: a dense fp16/bf16/fp32 tensor in the mapped checkpoint, or QQQ W4A8 weights run
/// through the integer kernels.
public protocol LinearOperator: AnyObject {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// y[r][0..<outFeatures] = x[r][0..<inFeatures]·Wᵀ (+ bias) for r in 0..<rows.
    func apply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int,
               into y: UnsafeMutablePointer<Float>, ldy: Int, threads: Int) throws
}

/// A dense weight. fp16 and fp32 weights are packed once, at load, into the GEMM's strip layout in
/// their own dtype (same bytes as the checkpoint; the mapped pages are released afterwards), so no call
/// re-packs them; bf16 weights are read in place from the mapped file and converted per panel (packing
/// them as fp32 would double a model's memory). Never a whole fp32 copy of an fp16/bf16 model.
public final class DenseLinear: LinearOperator {
    public let weight: Tensor
    public let bias: [Float]?
    public let inFeatures: Int
    public let outFeatures: Int
    private let bType: GemmBType
    private let packed: PackedWeights?

    public init(weight: Tensor, bias: [Float]? = nil) throws {
        guard weight.shape.count == 2 else {
            throw QQQError.badTensor(path: weight.file.path, tensor: weight.name, reason: "expected a 2-D weight, got shape \(weight.shape)")
        }
        self.weight = weight
        self.bias = bias
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        bType = try GemmBType(weight.dtype, file: weight.file.path, tensor: weight.name)
        if bType == .f16 || bType == .f32 {
            packed = try PackedWeights(weight.raw, type: bType, n: outFeatures, k: inFeatures)
            weight.dropPages()
        } else {
            packed = nil
        }
    }

    public func apply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int,
                      into y: UnsafeMutablePointer<Float>, ldy: Int, threads: Int) throws {
        if let packed {
            packed.gemm(m: rows, x: x, ldx: ldx, y: y, ldy: ldy, threads: threads)
        } else {
            Gemm.sgemm(m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx,
                   b: weight.raw, ldb: inFeatures, bType: bType, bLayout: .nk,
                   c: y, ldc: ldy, accumulate: false, threads: threads)
        }
        if let bias { addBias(bias, to: y, rows: rows, ldy: ldy, count: outFeatures) }
    }
}

/// Adds a bias row to every row of y.
func addBias(_ bias: [Float], to y: UnsafeMutablePointer<Float>, rows: Int, ldy: Int, count: Int) {
    bias.withUnsafeBufferPointer { b in
        for r in 0..<rows {
            let row = y + r * ldy
            for j in 0..<count { row[j] += b[j] }
        }
    }
}

extension GemmBType {
    /// The GEMM weight type of a float tensor dtype.
    init(_ dtype: DType, file: String, tensor: String) throws {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default:
            throw QQQError.badTensor(path: file, tensor: tensor, reason: "dtype \(dtype.rawValue) is not a float weight type (F32, F16, BF16)")
        }
    }
}
