import Foundation
import QQQKernels

/// A QQQ W4A8 linear run through the integer kernels: per-token int8 activations, int4 weights
/// (per-channel or two-level per-group 128), int32 accumulation over the whole K, one float epilogue.
public final class W4A8Linear: LinearOperator {
    public let weights: IntWeights
    public let bias: [Float]?
    public var inFeatures: Int { weights.k }
    public var outFeatures: Int { weights.n }
    private var activations: QuantizedActivations?
    let name: String

    public init(weights: IntWeights, bias: [Float]?, name: String) {
        self.weights = weights
        self.bias = bias
        self.name = name
    }

    public func apply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int,
                      into y: UnsafeMutablePointer<Float>, ldy: Int, threads: Int) throws {
        let acts = activations ?? QuantizedActivations(capacity: rows, k: inFeatures)
        activations = acts
        do {
            try acts.quantize(x, m: rows, ldx: ldx, threads: threads)
        } catch let error as KernelError {
            throw QQQError.numerical("input of \(name): \(error.description)")
        }
        if let bias {
            try bias.withUnsafeBufferPointer {
                try IntGemm.run(acts, weights: weights, bias: $0.baseAddress, y: y, ldy: ldy, threads: threads)
            }
        } else {
            try IntGemm.run(acts, weights: weights, y: y, ldy: ldy, threads: threads)
        }
    }
}

/// The same W4A8 layer emulated in floats (`qqq eval --fake-quant`): dequantized weights and
/// quantize-dequantize activations through the FP32 GEMM. A cross-check of the integer path.
public final class FakeQuantLinear: LinearOperator {
    let weight: [Float]  // effective weights [N][K]
    public let bias: [Float]?
    public let inFeatures: Int
    public let outFeatures: Int
    private var scratch: [Float] = []

    public init(effectiveWeight: [Float], n: Int, k: Int, bias: [Float]?) {
        weight = effectiveWeight
        inFeatures = k
        outFeatures = n
        self.bias = bias
    }

    public func apply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int,
                      into y: UnsafeMutablePointer<Float>, ldy: Int, threads: Int) throws {
        let k = inFeatures
        if scratch.count < rows * k { scratch = [Float](repeating: 0, count: rows * k) }
        try scratch.withUnsafeMutableBufferPointer { s in
            for r in 0..<rows {
                let row = x + r * ldx
                var amax: Float = 0
                for i in 0..<k {
                    guard row[i].isFinite else { throw QQQError.numerical("non-finite activation in row \(r)") }
                    amax = max(amax, abs(row[i]))
                }
                let sigma = amax / 127
                let out = s.baseAddress! + r * k
                for i in 0..<k {
                    out[i] = sigma == 0 ? 0 : max(-128, min(127, (row[i] / sigma).rounded(.toNearestOrEven))) * sigma
                }
            }
            weight.withUnsafeBufferPointer { w in
                Gemm.sgemm(m: rows, n: outFeatures, k: k, a: s.baseAddress!, lda: k, b: UnsafeRawPointer(w.baseAddress!),
                           ldb: k, bType: .f32, bLayout: .nk, c: y, ldc: ldy, threads: threads)
            }
        }
        if let bias { addBias(bias, to: y, rows: rows, ldy: ldy, count: outFeatures) }
    }
}

/// Reads qqq's quantized linears from a checkpoint: `<prefix>.qweight` (U8 [N, K/2], signed int4,
/// two per byte, even k in the low nibble), `<prefix>.s_channel` (F32 [N]), and for group size 128
/// `<prefix>.s_group` (F16 [N, ceil(K/128)]); `<prefix>.bias` (F16/F32 [N]) where the model has one.
public enum QuantizedLinearLoader {
    public static func factory(_ checkpoint: Checkpoint, groupSize: Int, fakeQuant: Bool) throws -> LinearFactory {
        guard groupSize == -1 || groupSize == 128 else {
            throw QQQError.unsupported("qqq group_size \(groupSize) in \(checkpoint.directory)/config.json (supported: -1, 128)")
        }
        return { prefix, k, n, hasBias in
            let qweight = try checkpoint.tensor(prefix + ".qweight", shape: [n, k / 2], dtypes: [.u8])
            let sChannel = try checkpoint.tensor(prefix + ".s_channel", shape: [n], dtypes: [.f32]).toFloat32()
            guard sChannel.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw QQQError.badTensor(path: qweight.file.path, tensor: prefix + ".s_channel", reason: "holds negative or non-finite scales")
            }
            var sGroup: [UInt16]?
            if groupSize == 128 {
                let t = try checkpoint.tensor(prefix + ".s_group", shape: [n, (k + 127) / 128], dtypes: [.f16])
                sGroup = Array(UnsafeBufferPointer(start: t.raw.bindMemory(to: UInt16.self, capacity: t.elementCount), count: t.elementCount))
            }
            let bias = hasBias ? try checkpoint.tensor(prefix + ".bias", shape: [n]).toFloat32() : nil
            let weights: IntWeights
            do {
                weights = try sChannel.withUnsafeBufferPointer { s in
                    try IntWeights.w4(plainNibbles: qweight.raw, n: n, k: k, scale: s.baseAddress!, sGroup: sGroup)
                }
            } catch let error as KernelError {
                throw QQQError.badTensor(path: qweight.file.path, tensor: prefix + ".qweight", reason: error.description)
            }
            if fakeQuant {
                return FakeQuantLinear(effectiveWeight: effectiveWeight(qweight: qweight, n: n, k: k, sChannel: sChannel, sGroup: sGroup),
                                       n: n, k: k, bias: bias)
            }
            return W4A8Linear(weights: weights, bias: bias, name: prefix)
        }
    }

    /// W_eff[n][k] = s_channel[n] · w[n][k] with w = q (per-channel) or the int8 group weight.
    static func effectiveWeight(qweight: Tensor, n: Int, k: Int, sChannel: [Float], sGroup: [UInt16]?) -> [Float] {
        let bytes = qweight.raw.bindMemory(to: UInt8.self, capacity: n * k / 2)
        let groups = (k + 127) / 128
        var w = [Float](repeating: 0, count: n * k)
        for row in 0..<n {
            for kk in 0..<k {
                let b = bytes[row * (k / 2) + kk / 2]
                let v = Int32(kk % 2 == 0 ? b & 15 : b >> 4)
                var q = v < 8 ? v : v - 16
                if let sGroup { q = IntGemmReference.groupWeight(q: q, scaleBits: sGroup[row * groups + kk / 128]) }
                w[row * k + kk] = Float(q) * sChannel[row]
            }
        }
        return w
    }
}

/// Round-to-nearest W8A8 of a float checkpoint at load time (per-channel int8 weights, absmax/127,
/// round half to even), run through the W8A8 integer kernels: the W8A8 baseline of `qqq eval --w8a8`.
public enum W8A8OnLoad {
    public static func factory(_ checkpoint: Checkpoint) -> LinearFactory {
        return { prefix, k, n, hasBias in
            let t = try checkpoint.tensor(prefix + ".weight", shape: [n, k])
            let w = try t.toFloat32()
            var q = [Int8](repeating: 0, count: n * k)
            var scale = [Float](repeating: 0, count: n)
            for row in 0..<n {
                var amax: Float = 0
                for c in 0..<k { amax = max(amax, abs(w[row * k + c])) }
                let s = amax / 127
                scale[row] = s
                if s == 0 { continue }
                for c in 0..<k { q[row * k + c] = Int8(max(-127, min(127, (w[row * k + c] / s).rounded(.toNearestOrEven)))) }
            }
            let bias = hasBias ? try checkpoint.tensor(prefix + ".bias", shape: [n]).toFloat32() : nil
            let weights: IntWeights
            do {
                weights = try IntWeights.w8(weights: q, n: n, k: k, scale: scale)
            } catch let error as KernelError {
                throw QQQError.badTensor(path: t.file.path, tensor: prefix + ".weight", reason: error.description)
            }
            return W4A8Linear(weights: weights, bias: bias, name: prefix)
        }
    }
}
