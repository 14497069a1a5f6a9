import Foundation

/// Our own on-disk W4A8 layout (QQQ-METHOD 5), the one the CPU kernels consume.
/// - `qweight` U8 [N][ceil(K/2)]: row n holds its K signed int4 codes two per byte, even k in
///   the low nibble, odd k in the high nibble, two's complement (odd K: the last high nibble is 0).
/// - `sChannel` F32 [N]: per-channel Delta_n (the plain GPTQ row scale, not /16);
///   per-group c_n = max_k |Delta_{g(k),n} * q[n][k]| / 127 (1 for an all-zero row).
/// - `sGroup` F16 bits [N][ceil(K/groupSize)] = fp16(Delta_{g,n} / c_n), per-group only.
public struct QQQPackedLinear: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// -1 per-channel, else the group size (128).
    public let groupSize: Int
    public var qweight: [UInt8]
    public var sChannel: [Float]
    public var sGroup: [UInt16]

    public var bytesPerRow: Int { (columns + 1) / 2 }
    public var groupCount: Int { groupSize > 0 ? (columns + groupSize - 1) / groupSize : 0 }

    /// The signed codes q[n][k], N x K.
    public func codes() -> [Int8] { QQQFormat.unpackNibbles(qweight, rows: rows, columns: columns) }

    /// Per-group int8 weights w8[n][k] = RNE(q * s_group) (what the kernel multiplies with).
    public func int8Weights() -> [Int8] {
        let q = codes()
        if groupSize <= 0 { return q }
        var out = [Int8](repeating: 0, count: rows * columns)
        let g = groupCount
        for n in 0..<rows {
            for k in 0..<columns {
                out[n * columns + k] = QQQFormat.expandW8(q[n * columns + k], sGroup: sGroup[n * g + k / groupSize])
            }
        }
        return out
    }

    /// Effective (fake-quant) weight, N x K: c_n * w8 (per-group) or Delta_n * q (per-channel).
    public func effectiveWeight() -> [Float] {
        let w = int8Weights()
        var out = [Float](repeating: 0, count: rows * columns)
        for n in 0..<rows {
            let s = sChannel[n]
            for k in 0..<columns { out[n * columns + k] = s * Float(w[n * columns + k]) }
        }
        return out
    }
}

public enum QQQFormat {
    /// Packs a GPTQ/RTN result into the qqq layout.
    public static func pack(_ r: GPTQResult, layerName: String) throws -> QQQPackedLinear {
        let n = r.rows, k = r.columns
        guard r.codes.count == n * k, r.scales.count == (r.groupSize > 0 ? n * r.groupCount : n) else {
            throw QQQError.invalidInput("\(layerName): inconsistent quantisation result")
        }
        let minCode: Int8 = r.groupSize > 0 ? -8 : -7
        guard r.codes.allSatisfy({ $0 >= minCode && $0 <= 7 }) else {
            throw QQQError.invalidInput("\(layerName): codes outside the 4-bit range")
        }
        let qweight = packNibbles(r.codes, rows: n, columns: k)
        if r.groupSize <= 0 {
            return QQQPackedLinear(rows: n, columns: k, groupSize: -1, qweight: qweight, sChannel: r.scales, sGroup: [])
        }
        let (c, ratios) = twoLevelScales(r)
        return QQQPackedLinear(rows: n, columns: k, groupSize: r.groupSize, qweight: qweight,
                               sChannel: c, sGroup: ratios)
    }

    /// Per-group two-level scales: c_n [N] and fp16 bits of Delta_{g,n}/c_n [N][G].
    static func twoLevelScales(_ r: GPTQResult) -> (channel: [Float], group: [UInt16]) {
        let n = r.rows, k = r.columns, g = r.groupCount, gs = r.groupSize
        var c = [Float](repeating: 0, count: n)
        var ratios = [UInt16](repeating: 0, count: n * g)
        for i in 0..<n {
            var m: Float = 0
            for j in 0..<k { m = max(m, abs(r.scales[i * g + j / gs] * Float(r.codes[i * k + j]))) }
            // All-zero codes: any c works (every w8 is 0); 1 keeps the ratios finite.
            let cn = m > 0 ? m / 127 : 1
            c[i] = cn
            for gi in 0..<g {
                let ratio = min(r.scales[i * g + gi] / cn, Float(Float16.greatestFiniteMagnitude))
                ratios[i * g + gi] = Float16(ratio).bitPattern
            }
        }
        return (c, ratios)
    }

    /// w8 = RNE(q * s_group), |w8| <= 127. Both factors are exact in fp32 (4-bit times 11-bit
    /// significand), so the fp32 product is exact and one RNE gives the kernel's fp16 result.
    @inline(__always)
    public static func expandW8(_ q: Int8, sGroup bits: UInt16) -> Int8 {
        let p = Float(q) * Float(Float16(bitPattern: bits))
        let c = max(-127, min(127, p))
        return Int8(WeightQuantizer.roundHalfEven(c))
    }

    /// Two signed nibbles per byte, even k low, odd k high.
    public static func packNibbles(_ codes: [Int8], rows: Int, columns: Int) -> [UInt8] {
        let bpr = (columns + 1) / 2
        var out = [UInt8](repeating: 0, count: rows * bpr)
        for n in 0..<rows {
            for b in 0..<bpr {
                let k = 2 * b
                let lo = UInt8(bitPattern: codes[n * columns + k]) & 0xF
                let hi = k + 1 < columns ? UInt8(bitPattern: codes[n * columns + k + 1]) & 0xF : 0
                out[n * bpr + b] = lo | (hi << 4)
            }
        }
        return out
    }

    public static func unpackNibbles(_ bytes: [UInt8], rows: Int, columns: Int) -> [Int8] {
        let bpr = (columns + 1) / 2
        var out = [Int8](repeating: 0, count: rows * columns)
        for n in 0..<rows {
            for k in 0..<columns {
                let byte = bytes[n * bpr + k / 2]
                let nib = k % 2 == 0 ? byte & 0xF : byte >> 4
                // Sign-extend the 4-bit two's complement value.
                out[n * columns + k] = Int8(bitPattern: nib << 4) >> 4
            }
        }
        return out
    }
}
