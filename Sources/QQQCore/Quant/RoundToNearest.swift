import Foundation

/// Plain round-to-nearest quantisation (`--no-gptq`): the same grid and parameters as GPTQ
/// (per-row or per-(row, group) scales, optional clip search), no error feedback.
public enum RoundToNearest {
    public static func quantize(weight: [Float], rows n: Int, columns k: Int,
                                options: GPTQOptions = GPTQOptions(), layerName: String) throws -> GPTQResult {
        try options.validate(rows: n, columns: k, layerName: layerName)
        guard weight.count == n * k else {
            throw QQQError.invalidInput("\(layerName): weight has \(weight.count) values, expected \(n) x \(k)")
        }
        guard weight.allSatisfy({ $0.isFinite }) else {
            throw QQQError.numerical("\(layerName): weight has non-finite values")
        }
        let quantizer = options.quantizer
        let gs = options.groupSize > 0 ? options.groupSize : k
        let groups = (k + gs - 1) / gs
        var scales = [Float](repeating: 0, count: n * groups)
        var codes = [Int8](repeating: 0, count: n * k)
        var deq = [Float](repeating: 0, count: n * k)
        weight.withUnsafeBufferPointer { wb in
        scales.withUnsafeMutableBufferPointer { sb in
        codes.withUnsafeMutableBufferPointer { cb in
        deq.withUnsafeMutableBufferPointer { db in
            let w = wb.baseAddress!, sp = sb.baseAddress!, cp = cb.baseAddress!, dp = db.baseAddress!
            GPTQ.parallelRows(n) { r in
                for i in r {
                    for g in 0..<groups {
                        let c0 = g * gs, c1 = min(k, c0 + gs)
                        let s = quantizer.findScale(w + i * k + c0, count: c1 - c0)
                        sp[i * groups + g] = s
                        for c in c0..<c1 {
                            let code = quantizer.code(w[i * k + c], scale: s)
                            cp[i * k + c] = Int8(code)
                            dp[i * k + c] = s * code
                        }
                    }
                }
            }
        }}}}
        return GPTQResult(rows: n, columns: k, groupSize: options.groupSize > 0 ? options.groupSize : -1,
                          codes: codes, scales: scales, dequantized: deq, loss: 0, percDampUsed: 0, warnings: [])
    }
}
