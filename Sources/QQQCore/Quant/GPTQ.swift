import Foundation

/// GPTQ (QQQ-METHOD 4.4): column-by-column 4-bit quantisation with second-order error feedback,
/// blocked lazy updates, act-order and static groups.
///
/// Internally the weight is held transposed (K x N) so that one column of W is one contiguous row:
/// quantising a column, the in-block rank-1 updates and the trailing block update
/// `W[:, i2:] -= E·U[i1:i2, i2:]` (here `Wt[i2:, :] -= U[i1:i2, i2:]ᵀ · Et`) are all unit-stride.
public enum GPTQ {
    /// Quantises one linear (weight N x K row-major) with its Hessian (K x K).
    public static func quantize(weight: [Float], rows: Int, columns: Int, hessian: [Float],
                                options: GPTQOptions = GPTQOptions(), layerName: String) throws -> GPTQResult {
        try options.validate(rows: rows, columns: columns, layerName: layerName)
        let factor = try GPTQHessianFactor(hessian: hessian, columns: columns, options: options, layerName: layerName)
        return try quantize(weight: weight, rows: rows, columns: columns, factor: factor,
                            options: options, layerName: layerName)
    }

    /// Quantises with a precomputed factor (shared by linears with the same inputs).
    public static func quantize(weight: [Float], rows n: Int, columns k: Int, factor: GPTQHessianFactor,
                                options: GPTQOptions = GPTQOptions(), layerName: String) throws -> GPTQResult {
        try options.validate(rows: n, columns: k, layerName: layerName)
        guard weight.count == n * k else {
            throw QQQError.invalidInput("\(layerName): weight has \(weight.count) values, expected \(n) x \(k)")
        }
        guard factor.columns == k else {
            throw QQQError.invalidInput("\(layerName): Hessian factor is \(factor.columns) wide, weight has \(k) columns")
        }
        guard factor.actOrder == options.actOrder else {
            throw QQQError.invalidInput("\(layerName): Hessian factor and options disagree on act-order")
        }
        guard weight.allSatisfy({ $0.isFinite }) else {
            throw QQQError.numerical("\(layerName): weight has non-finite values")
        }
        let quantizer = options.quantizer
        let gs = options.groupSize
        let groups = gs > 0 ? (k + gs - 1) / gs : 1

        // Per-channel parameters come from the weight before dead columns are zeroed (REF order).
        var rowScale = [Float](repeating: 0, count: n)
        if gs <= 0 {
            weight.withUnsafeBufferPointer { w in
                rowScale.withUnsafeMutableBufferPointer { rs in
                    let out = rs.baseAddress!
                    parallelRows(n) { r in
                        for i in r { out[i] = quantizer.findScale(w.baseAddress! + i * k, count: k) }
                    }
                }
            }
        }
        // Transposed, dead-zeroed, permuted working copy: wt[j] = column perm[j] of W.
        var wt = [Float](repeating: 0, count: k * n)
        let perm = factor.perm
        weight.withUnsafeBufferPointer { w in
            wt.withUnsafeMutableBufferPointer { t in
                for j in 0..<k where !factor.dead[perm[j]] {
                    let src = perm[j]
                    let dst = t.baseAddress! + j * n
                    for i in 0..<n { dst[i] = w[i * k + src] }
                }
            }
        }
        // groupScale[g * n + row]; static groups from the dead-zeroed original columns.
        var groupScale = [Float](repeating: 0, count: gs > 0 ? groups * n : 0)
        if gs > 0 && options.staticGroups {
            var wz = weight
            for j in 0..<k where factor.dead[j] { for i in 0..<n { wz[i * k + j] = 0 } }
            wz.withUnsafeBufferPointer { w in
                groupScale.withUnsafeMutableBufferPointer { gsb in
                    let gp = gsb.baseAddress!
                    parallelRows(n) { r in
                        for i in r {
                            for g in 0..<groups {
                                let c0 = g * gs, cn = min(gs, k - c0)
                                gp[g * n + i] = quantizer.findScale(w.baseAddress! + i * k + c0, count: cn)
                            }
                        }
                    }
                }
            }
        }

        var codesT = [Int8](repeating: 0, count: k * n)
        var deqT = [Float](repeating: 0, count: k * n)
        let bs = options.blockSize
        var errBlock = [Float](repeating: 0, count: bs * n)
        var uT = [Float](repeating: 0, count: k * bs) // U[i1..<i2, i2...]ᵀ scratch
        var loss = 0.0

        wt.withUnsafeMutableBufferPointer { wtb in
        codesT.withUnsafeMutableBufferPointer { cb in
        deqT.withUnsafeMutableBufferPointer { db in
        errBlock.withUnsafeMutableBufferPointer { eb in
        uT.withUnsafeMutableBufferPointer { utb in
        factor.u.withUnsafeBufferPointer { ub in
        rowScale.withUnsafeBufferPointer { rsb in
        groupScale.withUnsafeMutableBufferPointer { gsb in
            let W = wtb.baseAddress!, C = cb.baseAddress!, D = db.baseAddress!, E = eb.baseAddress!
            let U = ub.baseAddress!, UT = utb.baseAddress!
            let RS = rsb.baseAddress, GS = gsb.baseAddress
            var i1 = 0
            while i1 < k {
                let i2 = min(i1 + bs, k)
                // Dynamic groups (no act-order): parameters from the current, already updated
                // columns when a group starts inside this block.
                if gs > 0 && !options.staticGroups {
                    var j = i1
                    while j < i2 {
                        if j % gs == 0 {
                            let cn = min(gs, k - j)
                            let g = j / gs
                            parallelRows(n) { r in
                                for i in r { GS![g * n + i] = quantizer.findScale(W + j * n + i, count: cn, stride: n) }
                            }
                        }
                        j += 1
                    }
                }
                // Rows are independent inside a block: split them across threads.
                let partial = parallelRowsSum(n, minWork: (i2 - i1) * (i2 - i1) * 8) { r in
                    var blockLoss = 0.0
                    for j in i1..<i2 {
                        let wj = W + j * n
                        let d = U[j * k + j]
                        let invD2 = 1 / (Double(d) * Double(d))
                        let g = gs > 0 ? perm[j] / gs : 0
                        let e = E + (j - i1) * n
                        let cj = C + j * n, dj = D + j * n
                        var colLoss: Float = 0
                        for i in r {
                            let s = gs > 0 ? GS![g * n + i] : RS![i]
                            let w = wj[i]
                            let c = quantizer.code(w, scale: s)
                            let q = s * c
                            cj[i] = Int8(c)
                            dj[i] = q
                            let diff = w - q
                            colLoss += diff * diff
                            e[i] = diff / d
                        }
                        blockLoss += Double(colLoss) * invD2
                        // W[:, j'] -= e * U[j][j'] for the rest of the block.
                        let uRow = U + j * k
                        for jj in (j + 1)..<max(j + 1, i2) {
                            let f = uRow[jj]
                            let wjj = W + jj * n
                            for i in r { wjj[i] -= f * e[i] }
                        }
                    }
                    return blockLoss
                }
                loss += partial / 2
                if i2 < k {
                    let bw = i2 - i1, rest = k - i2
                    for c in 0..<rest {
                        for b in 0..<bw { UT[c * bw + b] = U[(i1 + b) * k + i2 + c] }
                    }
                    QuantMatrixOps.gemm(m: rest, n: n, k: bw, alpha: -1,
                                        a: UT, lda: bw, b: E, ldb: n, c: W + i2 * n, ldc: n)
                }
                i1 = i2
            }
        }}}}}}}}

        // Un-permute and transpose back to N x K.
        var codes = [Int8](repeating: 0, count: n * k)
        var deq = [Float](repeating: 0, count: n * k)
        for j in 0..<k {
            let col = perm[j]
            for i in 0..<n {
                codes[i * k + col] = codesT[j * n + i]
                deq[i * k + col] = deqT[j * n + i]
            }
        }
        var scales: [Float]
        if gs > 0 {
            scales = [Float](repeating: 0, count: n * groups)
            for i in 0..<n { for g in 0..<groups { scales[i * groups + g] = groupScale[g * n + i] } }
        } else {
            scales = rowScale
        }
        return GPTQResult(rows: n, columns: k, groupSize: gs > 0 ? gs : -1, codes: codes, scales: scales,
                          dequantized: deq, loss: loss, percDampUsed: factor.percDampUsed,
                          warnings: factor.warnings)
    }

    /// `tr((W - Q) H (W - Q)ᵀ)`: the layer-output error GPTQ minimises (H = (2/n)ΣXᵀX).
    public static func hessianWeightedError(weight: [Float], quantized: [Float], rows n: Int, columns k: Int,
                                            hessian: [Float]) -> Double {
        var total = 0.0
        var d = [Double](repeating: 0, count: k)
        for i in 0..<n {
            for c in 0..<k { d[c] = Double(weight[i * k + c]) - Double(quantized[i * k + c]) }
            for a in 0..<k where d[a] != 0 {
                var s = 0.0
                for b in 0..<k { s += Double(hessian[a * k + b]) * d[b] }
                total += d[a] * s
            }
        }
        return total
    }

    // MARK: threading helpers

    /// Worker threads of GPTQ's row-parallel loops (`qqq quantize --threads`).
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount

    /// Runs body over contiguous row ranges, in parallel when there are enough rows.
    static func parallelRows(_ n: Int, _ body: (Range<Int>) -> Void) {
        let threads = GPTQ.threads
        if threads <= 1 || n < 64 {
            body(0..<n)
            return
        }
        let chunks = threads
        let per = (n + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let r0 = c * per, r1 = min(n, r0 + per)
            if r0 < r1 { body(r0..<r1) }
        }
    }

    /// parallelRows with a Double result per chunk, summed in chunk order (deterministic).
    static func parallelRowsSum(_ n: Int, minWork: Int, _ body: (Range<Int>) -> Double) -> Double {
        let threads = GPTQ.threads
        if threads <= 1 || n * minWork < 1 << 16 || n < 16 {
            return body(0..<n)
        }
        let chunks = threads
        let per = ((n + chunks - 1) / chunks + 7) & ~7
        var sums = [Double](repeating: 0, count: chunks)
        sums.withUnsafeMutableBufferPointer { sp in
            let p = sp.baseAddress!
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let r0 = c * per, r1 = min(n, r0 + per)
                if r0 < r1 { p[c] = body(r0..<r1) }
            }
        }
        return sums.reduce(0, +)
    }
}
