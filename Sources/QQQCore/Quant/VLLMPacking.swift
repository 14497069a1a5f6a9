import Foundation

/// The reference QQQ checkpoint tensors for one linear (QQQ-METHOD 6.2-6.4), as vLLM's
/// `marlin_qqq_gemm` and HandH1998/QQQ's `QuantLinear` read them.
public struct VLLMQQQTensors: Sendable, Equatable {
    public let rows: Int      // N
    public let columns: Int   // K
    public let groupSize: Int // -1 or 128
    /// int32 [K/16][2N]
    public var b: [Int32]
    /// float32 [1][N], permuted; per-channel Delta/16, per-group c_n.
    public var sChannel: [Float]
    /// float16 bits [K/128][N], permuted; empty for per-channel.
    public var sGroup: [UInt16]
}

/// Marlin-QQQ packing (QQQ-METHOD 6.3, 6.4) and its inverse.
public enum VLLMPacking {
    /// Order of the 1024 values of one 64-column chunk of a 16-row tile row: new[p] = old[perm[p]].
    public static func perm(perChannel: Bool) -> [Int] {
        let il = perChannel ? [4, 0, 5, 1, 6, 2, 7, 3] : [0, 2, 4, 6, 1, 3, 5, 7]
        var out: [Int] = []
        out.reserveCapacity(1024)
        for lane in 0..<32 {                 // tensor-core thread
            for j in 0..<4 {                 // 16-column tile of the chunk
                var base = [Int](repeating: 0, count: 8)
                for blk in 0..<2 {
                    for r in 0..<4 {
                        base[4 * blk + r] = 256 * j + 16 * (4 * (lane % 4) + r) + lane / 4 + 8 * blk
                    }
                }
                for e in 0..<8 { out.append(base[il[e]]) }
            }
        }
        return out
    }

    /// s_channel order inside each 32 columns: new[i] = old[scalePermSingle[i]].
    public static let scalePermSingle: [Int] = (0..<4).flatMap { i in [0, 1, 8, 9, 16, 17, 24, 25].map { 2 * i + $0 } }
    /// s_group order inside each 64 columns: new[8i + j] = old[i + 8j].
    public static let scalePerm: [Int] = (0..<8).flatMap { i in (0..<8).map { i + 8 * $0 } }

    public static func pack(_ r: GPTQResult, layerName: String) throws -> VLLMQQQTensors {
        let n = r.rows, k = r.columns
        guard k % 128 == 0, n % 64 == 0 else {
            throw QQQError.unsupported("\(layerName): reference QQQ export needs in_features % 128 == 0 and out_features % 64 == 0 (got \(k), \(n))")
        }
        let perChannel = r.groupSize <= 0
        guard perChannel || r.groupSize == 128 else {
            throw QQQError.unsupported("\(layerName): reference QQQ export supports group size 128 only (got \(r.groupSize))")
        }
        // Integer matrix w[k][n]: per-channel signed q (masked to 4 bits), per-group u = q + 8.
        var w = [UInt8](repeating: 0, count: k * n)
        for i in 0..<n {
            for j in 0..<k {
                let q = Int(r.codes[i * k + j])
                w[j * n + i] = UInt8(truncatingIfNeeded: perChannel ? q & 0xF : q + 8)
            }
        }
        let b = packB(w, k: k, n: n, perChannel: perChannel)
        var sChannel: [Float]
        var sGroup: [UInt16] = []
        if perChannel {
            sChannel = r.scales.map { $0 / 16 }
        } else {
            let (c, ratios) = QQQFormat.twoLevelScales(r)
            sChannel = c
            let g = k / 128
            var sg = [UInt16](repeating: 0, count: g * n)
            for gi in 0..<g { for i in 0..<n { sg[gi * n + i] = ratios[i * g + gi] } }
            sGroup = permuteBlocks(sg, rows: g, cols: n, perm: scalePerm)
        }
        sChannel = permuteBlocks(sChannel, rows: 1, cols: n, perm: scalePermSingle)
        return VLLMQQQTensors(rows: n, columns: k, groupSize: perChannel ? -1 : 128, b: b,
                              sChannel: sChannel, sGroup: sGroup)
    }

    /// Inverse of `pack`: signed codes q[n][k] (N x K) and the un-permuted scales
    /// (s_channel [N]; s_group [K/128][N] fp16 bits).
    public static func unpack(_ t: VLLMQQQTensors) -> (codes: [Int8], sChannel: [Float], sGroup: [UInt16]) {
        let n = t.rows, k = t.columns
        let perChannel = t.groupSize <= 0
        let w = unpackB(t.b, k: k, n: n, perChannel: perChannel)
        var codes = [Int8](repeating: 0, count: n * k)
        for j in 0..<k {
            for i in 0..<n {
                let v = w[j * n + i]
                codes[i * k + j] = perChannel ? Int8(bitPattern: v << 4) >> 4 : Int8(v) - 8
            }
        }
        let sc = unpermuteBlocks(t.sChannel, rows: 1, cols: n, perm: scalePermSingle)
        let sg = perChannel ? [] : unpermuteBlocks(t.sGroup, rows: k / 128, cols: n, perm: scalePerm)
        return (codes, sc, sg)
    }

    /// w [K][N] nibbles -> B [K/16][2N] words.
    static func packB(_ w: [UInt8], k: Int, n: Int, perChannel: Bool) -> [Int32] {
        let p = perm(perChannel: perChannel)
        let wordsPerRow = 2 * n
        var b = [UInt32](repeating: 0, count: (k / 16) * wordsPerRow)
        var old = [UInt8](repeating: 0, count: 1024)
        for row in 0..<(k / 16) {
            for c in 0..<(n / 64) {
                // Tile layout inside the chunk: (n/16 within chunk)*256 + (k%16)*16 + n%16.
                for kk in 0..<16 {
                    for nn in 0..<64 {
                        old[(nn / 16) * 256 + kk * 16 + nn % 16] = w[(16 * row + kk) * n + 64 * c + nn]
                    }
                }
                for q in 0..<1024 {
                    b[row * wordsPerRow + 128 * c + q / 8] |= UInt32(old[p[q]] & 0xF) << (4 * UInt32(q % 8))
                }
            }
        }
        return b.map { Int32(bitPattern: $0) }
    }

    static func unpackB(_ b: [Int32], k: Int, n: Int, perChannel: Bool) -> [UInt8] {
        let p = perm(perChannel: perChannel)
        let wordsPerRow = 2 * n
        var w = [UInt8](repeating: 0, count: k * n)
        var old = [UInt8](repeating: 0, count: 1024)
        for row in 0..<(k / 16) {
            for c in 0..<(n / 64) {
                for q in 0..<1024 {
                    let word = UInt32(bitPattern: b[row * wordsPerRow + 128 * c + q / 8])
                    old[p[q]] = UInt8((word >> (4 * UInt32(q % 8))) & 0xF)
                }
                for kk in 0..<16 {
                    for nn in 0..<64 {
                        w[(16 * row + kk) * n + 64 * c + nn] = old[(nn / 16) * 256 + kk * 16 + nn % 16]
                    }
                }
            }
        }
        return w
    }

    static func permuteBlocks<T>(_ v: [T], rows: Int, cols: Int, perm: [Int]) -> [T] {
        var out = v
        let bsz = perm.count
        for r in 0..<rows {
            for b0 in stride(from: 0, to: cols, by: bsz) {
                for i in 0..<bsz { out[r * cols + b0 + i] = v[r * cols + b0 + perm[i]] }
            }
        }
        return out
    }

    static func unpermuteBlocks<T>(_ v: [T], rows: Int, cols: Int, perm: [Int]) -> [T] {
        var out = v
        let bsz = perm.count
        for r in 0..<rows {
            for b0 in stride(from: 0, to: cols, by: bsz) {
                for i in 0..<bsz { out[r * cols + b0 + perm[i]] = v[r * cols + b0 + i] }
            }
        }
        return out
    }
}

extension VLLMPacking {
    /// Packs a linear stored in qqq's own format (signed codes [N][K]; s_channel [N] = Δ per-channel or
    /// c_n per-group; s_group fp16 [N][K/128]) into the reference/vLLM tensors.
    public static func pack(codes: [Int8], sChannel: [Float], sGroup: [UInt16]?, rows n: Int, columns k: Int,
                            layerName: String) throws -> VLLMQQQTensors {
        guard k % 128 == 0, n % 64 == 0 else {
            throw QQQError.unsupported("\(layerName): the vLLM/QQQ format needs in_features % 128 == 0 and out_features % 64 == 0 (got K = \(k), N = \(n))")
        }
        let perChannel = sGroup == nil
        var w = [UInt8](repeating: 0, count: k * n)
        for i in 0..<n {
            for j in 0..<k {
                let q = Int(codes[i * k + j])
                w[j * n + i] = UInt8(truncatingIfNeeded: perChannel ? q & 0xF : q + 8)
            }
        }
        let b = packB(w, k: k, n: n, perChannel: perChannel)
        var sc = perChannel ? sChannel.map { $0 / 16 } : sChannel  // the kernel reads nibbles as 16·q
        sc = permuteBlocks(sc, rows: 1, cols: n, perm: scalePermSingle)
        var sg: [UInt16] = []
        if let sGroup {
            let g = k / 128
            var t = [UInt16](repeating: 0, count: g * n)
            for gi in 0..<g { for i in 0..<n { t[gi * n + i] = sGroup[i * g + gi] } }
            sg = permuteBlocks(t, rows: g, cols: n, perm: scalePerm)
        }
        return VLLMQQQTensors(rows: n, columns: k, groupSize: perChannel ? -1 : 128, b: b, sChannel: sc, sGroup: sg)
    }
}
