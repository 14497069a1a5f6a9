import Foundation

/// Everything GPTQ derives from a Hessian alone: dead columns, act-order permutation, damping and
/// the upper Cholesky factor of the damped inverse. Linears that share inputs (q/k/v, gate/up)
/// share one factor, so the O(K³) work is done once per distinct Hessian.
public struct GPTQHessianFactor: Sendable {
    public let columns: Int
    /// dead[k]: H[k][k] == 0 (column never excited; its weights are zeroed).
    public let dead: [Bool]
    /// perm[j] = original column processed at position j (identity without act-order).
    public let perm: [Int]
    public let actOrder: Bool
    /// U (K x K row-major, fp32, in permuted order), upper with (H + damp I)⁻¹ = Uᵀ U.
    let u: [Float]
    public let percDampUsed: Double
    public let warnings: [String]

    /// Factors `hessian` (K x K row-major). Retries with 10x damping when H + damp I is not
    /// positive definite; throws only if it never is.
    public init(hessian: [Float], columns k: Int, options: GPTQOptions, layerName: String) throws {
        guard k > 0, hessian.count == k * k else {
            throw QQQError.invalidInput("\(layerName): Hessian has \(hessian.count) values, expected \(k) x \(k)")
        }
        guard options.percDamp > 0, options.percDamp.isFinite else {
            throw QQQError.invalidInput("\(layerName): damping fraction \(options.percDamp) must be positive")
        }
        var dead = [Bool](repeating: false, count: k)
        var diag = [Double](repeating: 0, count: k)
        for j in 0..<k {
            let v = Double(hessian[j * k + j])
            guard v.isFinite else { throw QQQError.numerical("\(layerName): Hessian has a non-finite diagonal at \(j)") }
            if v == 0 { dead[j] = true; diag[j] = 1 } else { diag[j] = v }
        }
        var perm = Array(0..<k)
        if options.actOrder {
            // Descending diagonal; ties keep the original order (deterministic).
            perm.sort { diag[$0] != diag[$1] ? diag[$0] > diag[$1] : $0 < $1 }
        }
        // The permuted, damped Hessian is rebuilt for each damping attempt rather than kept beside its
        // copy: at K = 11008 every Double K x K matrix is 0.97 GB.
        func permuted(damp: Double) throws -> [Double] {
            var hd = [Double](repeating: 0, count: k * k)
            for i in 0..<k {
                let src = perm[i] * k
                for j in 0..<k {
                    let v = Double(hessian[src + perm[j]])
                    guard v.isFinite else { throw QQQError.numerical("\(layerName): Hessian has non-finite entries") }
                    hd[i * k + j] = v
                }
                hd[i * k + i] = diag[perm[i]] + damp // dead columns get 1 (+ damp)
            }
            return hd
        }
        let meanDiag = diag.reduce(0, +) / Double(k)
        var pd = options.percDamp
        var factor: [Double]? = nil
        var attempts = 0
        while true {
            factor = Cholesky.upperFactorOfInverse(consuming: try permuted(damp: pd * meanDiag), n: k)
            if factor != nil || attempts >= options.maxDampRetries { break }
            attempts += 1
            pd *= 10
        }
        guard let uD = factor else {
            throw QQQError.numerical(
                "\(layerName): Hessian is not positive definite even with damping \(pd) x mean diagonal")
        }
        var warnings: [String] = []
        if attempts > 0 {
            warnings.append("\(layerName): Cholesky failed at damping \(options.percDamp); succeeded with \(pd)")
        }
        var u = [Float](repeating: 0, count: k * k)
        var finite = true
        for i in 0..<(k * k) {
            u[i] = Float(uD[i])
            if !u[i].isFinite { finite = false }
        }
        guard finite else { throw QQQError.numerical("\(layerName): inverse Hessian factor is not finite") }
        self.columns = k
        self.dead = dead
        self.perm = perm
        self.actOrder = options.actOrder
        self.u = u
        self.percDampUsed = pd
        self.warnings = warnings
    }
}
