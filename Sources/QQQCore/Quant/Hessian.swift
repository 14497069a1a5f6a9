import Foundation
import QQQKernels

/// GPTQ's layer Hessian `H = (2/n) * sum over windows of XᵀX` (QQQ-METHOD 4.2), K x K.
/// Each call to `add` is one calibration window and counts 1 in n, whatever its token count.
/// Storage is fp32 like the reference; only the upper triangle is accumulated (symmetric
/// rank-k update, about half the arithmetic of a full XᵀX) and mirrored when read.
public final class Hessian {
    public let columns: Int
    public private(set) var windows: Int = 0
    /// Raw sum of XᵀX (upper triangle incl. diagonal is valid).
    private var sum: [Float]

    public init(columns: Int) {
        self.columns = max(0, columns)
        sum = [Float](repeating: 0, count: self.columns * self.columns)
    }

    /// Adds one window: `x` is [tokens x columns] row-major fp32.
    public func add(x: UnsafePointer<Float>, tokens: Int) {
        windows += 1
        if tokens <= 0 || columns == 0 { return }
        // One call over the whole triangle: X is packed once per block and only tiles on or above the
        // diagonal are multiplied (row strips of 512, the previous scheme, did ~1.4x the arithmetic).
        sum.withUnsafeMutableBufferPointer { s in
            Gemm.syrkUpper(n: columns, k: tokens, x: x, ldx: columns, c: s.baseAddress!, ldc: columns)
        }
    }

    /// Convenience for Swift arrays: `x.count` must be a multiple of `columns`.
    public func add(_ x: [Float]) throws {
        guard columns > 0, x.count % columns == 0 else {
            throw QQQError.invalidInput("Hessian.add: \(x.count) values is not a whole number of rows of \(columns)")
        }
        x.withUnsafeBufferPointer { add(x: $0.baseAddress!, tokens: x.count / columns) }
    }

    /// Adds another accumulator's windows (e.g. from a second thread).
    public func merge(_ other: Hessian) throws {
        guard other.columns == columns else {
            throw QQQError.invalidInput("Hessian.merge: \(other.columns) columns vs \(columns)")
        }
        for i in 0..<sum.count { sum[i] += other.sum[i] }
        windows += other.windows
    }

    /// The full symmetric `(2/n) Σ XᵀX`, K x K row-major (all zero before any window).
    public func matrix() -> [Float] {
        let k = columns
        var h = [Float](repeating: 0, count: k * k)
        if windows == 0 { return h }
        let f = Float(2.0 / Double(windows))
        for i in 0..<k {
            for j in i..<k {
                let v = sum[i * k + j] * f
                h[i * k + j] = v
                h[j * k + i] = v
            }
        }
        return h
    }
}
