/// Scalar references of the integer kernels: the contract of `qqq_int8.h`, loop by loop, for tests.
public enum IntGemmReference {
    /// Per-token quantization: sigma = max|x| / 127, a = clamp(rne(x / sigma), -128, 127).
    public static func quantize(_ x: [Float], m: Int, k: Int) -> (a: [Int8], sigma: [Float]) {
        var a = [Int8](repeating: 0, count: m * k)
        var sigma = [Float](repeating: 0, count: m)
        for t in 0..<m {
            let row = x[(t * k)..<((t + 1) * k)]
            let s = (row.map { abs($0) }.max() ?? 0) / 127
            sigma[t] = s
            if s == 0 { continue }
            for i in 0..<k {
                let q = (x[t * k + i] / s).rounded(.toNearestOrEven)
                a[t * k + i] = Int8(max(-128, min(127, q)))
            }
        }
        return (a, sigma)
    }

    /// Signed value of nibble i of a plain [N][K/2] row-major nibble array.
    @inline(__always) static func nibble(_ plain: [UInt8], n: Int, kk: Int, k: Int) -> Int32 {
        let b = plain[n * (k / 2) + kk / 2]
        let v = kk % 2 == 0 ? b & 15 : b >> 4
        return Int32(v < 8 ? Int(v) : Int(v) - 16)
    }

    /// The per-group int8 weight: clamp(rne(float(q) · float(s_group)), -127, 127).
    public static func groupWeight(q: Int32, scaleBits: UInt16) -> Int32 {
        let w = (Float(q) * Float(Float16(bitPattern: scaleBits))).rounded(.toNearestOrEven)
        return Int32(max(-127, min(127, w)))
    }

    /// Exact int32 accumulators of W4 weights (per-channel when sGroup is nil).
    public static func w4Accumulators(a: [Int8], m: Int, plain: [UInt8], n: Int, k: Int, sGroup: [UInt16]?) -> [Int32] {
        let groups = (k + 127) / 128
        var acc = [Int32](repeating: 0, count: m * n)
        for t in 0..<m {
            for j in 0..<n {
                var s: Int32 = 0
                for kk in 0..<k {
                    var w = nibble(plain, n: j, kk: kk, k: k)
                    if let sGroup { w = groupWeight(q: w, scaleBits: sGroup[j * groups + kk / 128]) }
                    s += Int32(a[t * k + kk]) * w
                }
                acc[t * n + j] = s
            }
        }
        return acc
    }

    public static func w8Accumulators(a: [Int8], m: Int, w: [Int8], n: Int, k: Int) -> [Int32] {
        var acc = [Int32](repeating: 0, count: m * n)
        for t in 0..<m {
            for j in 0..<n {
                var s: Int32 = 0
                for kk in 0..<k { s += Int32(a[t * k + kk]) * Int32(w[j * k + kk]) }
                acc[t * n + j] = s
            }
        }
        return acc
    }

    /// y = (float(acc) · scale[n]) · sigma[t] + bias[n]
    public static func epilogue(acc: [Int32], m: Int, n: Int, scale: [Float], sigma: [Float], bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        for t in 0..<m {
            for j in 0..<n {
                let product = Float(acc[t * n + j]) * scale[j]
                y[t * n + j] = product * sigma[t] + (bias?[j] ?? 0)
            }
        }
        return y
    }
}
