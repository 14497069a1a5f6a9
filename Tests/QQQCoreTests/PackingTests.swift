import Testing
@testable import QQQCore

private func randomResult(n: Int, k: Int, groupSize: Int, seed: UInt64) throws -> GPTQResult {
    var rng = QuantTestRNG(seed: seed)
    let w = rng.normals(n * k, scale: 0.03)
    return try RoundToNearest.quantize(weight: w, rows: n, columns: k,
                                       options: GPTQOptions(groupSize: groupSize), layerName: "t")
}

@Suite struct PackingTests {
    @Test func nibbleLayoutHand() {
        // Row [1, -1, 7, -8, 3] (K = 5, odd): bytes 0xF1, 0x87, 0x03.
        let b = QQQFormat.packNibbles([1, -1, 7, -8, 3], rows: 1, columns: 5)
        #expect(b == [0xF1, 0x87, 0x03])
        #expect(QQQFormat.unpackNibbles(b, rows: 1, columns: 5) == [1, -1, 7, -8, 3])
    }

    @Test(arguments: [6, 10, 576, 7])
    func nibbleRoundTrip(k: Int) {
        var rng = QuantTestRNG(seed: UInt64(k))
        let n = 3
        let q = (0..<(n * k)).map { _ in Int8(Int(rng.next() % 16) - 8) }
        let b = QQQFormat.packNibbles(q, rows: n, columns: k)
        #expect(b.count == n * ((k + 1) / 2))
        #expect(QQQFormat.unpackNibbles(b, rows: n, columns: k) == q)
    }

    @Test func perChannelFormat() throws {
        let r = try randomResult(n: 5, k: 96, groupSize: -1, seed: 1)
        let p = try QQQFormat.pack(r, layerName: "t")
        #expect(p.sChannel == r.scales) // plain Delta, not /16
        #expect(p.sGroup.isEmpty)
        #expect(p.codes() == r.codes)
        #expect(p.effectiveWeight() == r.dequantized)
    }

    /// Per-group: c_n from the dequantised values, ratios in fp16, |w8| <= 127 with the maximum
    /// element reaching 127 exactly, and c_n * w8 close to Delta_g * q. K = 576: shorter last group.
    @Test func perGroupTwoLevelScales() throws {
        let n = 16, k = 576
        let r = try randomResult(n: n, k: k, groupSize: 128, seed: 2)
        let p = try QQQFormat.pack(r, layerName: "t")
        #expect(p.groupCount == 5)
        #expect(p.sGroup.count == n * 5)
        let w8 = p.int8Weights()
        let eff = p.effectiveWeight()
        for i in 0..<n {
            var m: Float = 0
            for j in 0..<k { m = max(m, abs(r.dequantized[i * k + j])) }
            #expect(p.sChannel[i] == m / 127)
            var maxW8 = 0
            for j in 0..<k {
                let v = Int(w8[i * k + j])
                #expect(abs(v) <= 127)
                maxW8 = max(maxW8, abs(v))
                // int8 rounding (c/2) plus the fp16 ratio error: |q| * ratio * 2^-11 <= 127 * 2^-11 w8 units.
                #expect(abs(eff[i * k + j] - r.dequantized[i * k + j]) <= p.sChannel[i] * (0.5 + 127.0 / 2048) * 1.0001)
            }
            #expect(maxW8 == 127)
            for g in 0..<5 {
                let ratio = Float(Float16(bitPattern: p.sGroup[i * 5 + g]))
                #expect(ratio > 0 && ratio <= 127.1) // ratio * max|q| of the group <= 127
            }
        }
    }

    @Test func expandW8RoundsHalfEven() {
        // s_group = 2.5 (exact in fp16): 1 * 2.5 = 2.5 -> 2; 3 * 2.5 = 7.5 -> 8; -1 * 2.5 -> -2.
        let s = Float16(2.5).bitPattern
        #expect(QQQFormat.expandW8(1, sGroup: s) == 2)
        #expect(QQQFormat.expandW8(3, sGroup: s) == 8)
        #expect(QQQFormat.expandW8(-1, sGroup: s) == -2)
        // Clamped to 127 even if a ratio would overshoot.
        #expect(QQQFormat.expandW8(-8, sGroup: Float16(16.5).bitPattern) == -127)
        // Not an integer ratio: 7 * 18.140625 = 126.984375 -> 127.
        #expect(QQQFormat.expandW8(7, sGroup: Float16(18.140625).bitPattern) == 127)
    }

    @Test func zeroRowGuard() throws {
        let r = GPTQResult(rows: 1, columns: 128, groupSize: 128, codes: [Int8](repeating: 0, count: 128),
                           scales: [Float(2) / 15], dequantized: [Float](repeating: 0, count: 128),
                           loss: 0, percDampUsed: 0, warnings: [])
        let p = try QQQFormat.pack(r, layerName: "t")
        #expect(p.sChannel == [1])
        #expect(p.effectiveWeight().allSatisfy { $0 == 0 })
    }

    /// Hand-derived words of the Marlin-QQQ order, following the reference python `_get_perms`
    /// and `pack` step by step for lane 0, tile 0 of the first chunk:
    /// perm1 for i = 0: col = 0; block 0 rows 0..3 -> 16*row + 0 = [0, 16, 32, 48];
    /// block 1 -> [8, 24, 40, 56]. After the tile reshape, position 16*kk + nn holds w[kk][nn],
    /// so perm1 = [(0,0),(1,0),(2,0),(3,0),(0,8),(1,8),(2,8),(3,8)] as (k, n).
    /// Per-channel interleave [4,0,5,1,6,2,7,3] -> nibbles (0,8),(0,0),(1,8),(1,0),(2,8),(2,0),(3,8),(3,0);
    /// `q |= (res[:, i::8] & 0xF) << 4*i` puts nibble i at bits 4i of word 0.
    /// Per-group interleave [0,2,4,6,1,3,5,7] -> (0,0),(2,0),(0,8),(2,8),(1,0),(3,0),(1,8),(3,8).
    @Test func marlinOrderHandExample() throws {
        let n = 64, k = 128
        var codes = [Int8](repeating: 0, count: n * k)
        func set(_ kk: Int, _ nn: Int, _ v: Int8) { codes[nn * k + kk] = v }
        set(0, 0, 1); set(0, 8, 2); set(1, 0, 3); set(1, 8, 4)
        set(2, 0, 5); set(2, 8, 6); set(3, 0, 7); set(3, 8, -1)
        // lane 1 (= i 1): rows 4..7, column 0 -> word 4 of the row.
        set(4, 0, -7)
        let r = GPTQResult(rows: n, columns: k, groupSize: -1, codes: codes,
                           scales: [Float](repeating: 1, count: n), dequantized: [], loss: 0,
                           percDampUsed: 0, warnings: [])
        let t = try VLLMPacking.pack(r, layerName: "t")
        #expect(t.b.count == (k / 16) * 2 * n)
        // nibbles [2, 1, 4, 3, 6, 5, 0xF, 7] -> 0x7F563412
        #expect(UInt32(bitPattern: t.b[0]) == 0x7F56_3412)
        // lane 1: base = rows 4..7 (blk 0, col 0) and the same rows at col 8; IL puts blk1 r0 first,
        // so the (4,0) value -7 = 0x9 is nibble 1.
        #expect(UInt32(bitPattern: t.b[4]) == 0x0000_0090)
        // Per-group (u = q + 8): nibbles u(0,0),u(2,0),u(0,8),u(2,8),u(1,0),u(3,0),u(1,8),u(3,8)
        // = 9, 13, 10, 14, 11, 15, 12, 7 -> 0x7CFBEAD9.
        let rg = GPTQResult(rows: n, columns: k, groupSize: 128, codes: codes,
                            scales: [Float](repeating: 1, count: n), dequantized: [], loss: 0,
                            percDampUsed: 0, warnings: [])
        let tg = try VLLMPacking.pack(rg, layerName: "t")
        #expect(UInt32(bitPattern: tg.b[0]) == 0x7CFB_EAD9)
    }

    @Test func scalePermutations() {
        #expect(VLLMPacking.scalePermSingle == [0, 1, 8, 9, 16, 17, 24, 25, 2, 3, 10, 11, 18, 19, 26, 27,
                                                 4, 5, 12, 13, 20, 21, 28, 29, 6, 7, 14, 15, 22, 23, 30, 31])
        #expect(Array(VLLMPacking.scalePerm.prefix(10)) == [0, 8, 16, 24, 32, 40, 48, 56, 1, 9])
        let p = VLLMPacking.perm(perChannel: true)
        #expect(Set(p).count == 1024 && p.min() == 0 && p.max() == 1023)
        #expect(Array(p.prefix(8)) == [8, 0, 24, 16, 40, 32, 56, 48])
        #expect(Array(VLLMPacking.perm(perChannel: false).prefix(8)) == [0, 32, 8, 40, 16, 48, 24, 56])
    }

    @Test(arguments: [-1, 128])
    func vllmRoundTrip(groupSize: Int) throws {
        let n = 128, k = 256
        let r = try randomResult(n: n, k: k, groupSize: groupSize, seed: 7)
        let t = try VLLMPacking.pack(r, layerName: "t")
        #expect(t.b.count == (k / 16) * (2 * n))
        let u = VLLMPacking.unpack(t)
        #expect(u.codes == r.codes)
        if groupSize < 0 {
            #expect(u.sChannel == r.scales.map { $0 / 16 })
            #expect(t.sGroup.isEmpty)
        } else {
            let p = try QQQFormat.pack(r, layerName: "t")
            #expect(u.sChannel == p.sChannel)
            // s_group [K/128][N] is the transpose of our [N][G]
            for i in 0..<n { for g in 0..<2 { #expect(u.sGroup[g * n + i] == p.sGroup[i * 2 + g]) } }
            #expect(t.sGroup != u.sGroup) // really permuted
        }
        #expect(t.sChannel != u.sChannel)
    }

    @Test func vllmShapeErrors() throws {
        let r = try randomResult(n: 64, k: 576, groupSize: 128, seed: 3)
        #expect(throws: QQQError.self) { try VLLMPacking.pack(r, layerName: "model.layers.0.mlp.down_proj") }
        let r2 = try randomResult(n: 96, k: 128, groupSize: -1, seed: 3)
        #expect(throws: QQQError.self) { try VLLMPacking.pack(r2, layerName: "x") }
    }
}
