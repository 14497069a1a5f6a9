import Foundation

/// Folding smoothing scales into an fp model (QQQ-METHOD 2.7): the activation channel c is
/// divided by s[c] (via the preceding norm weight or the rows of the producing linear), the
/// consuming linears' input columns are multiplied by s[c], so the product is unchanged.
public enum SmoothFold {
    /// v[c] /= s[c] (RMSNorm weight, or a bias).
    public static func divide(_ v: inout [Float], by s: [Float]) throws {
        guard v.count == s.count else { throw QQQError.invalidInput("smoothing: \(v.count) values vs \(s.count) scales") }
        for c in 0..<v.count { v[c] /= s[c] }
    }

    /// W[n][c] *= s[c] for a [rows x columns] weight (consuming linear).
    public static func scaleColumns(_ w: inout [Float], rows: Int, columns: Int, by s: [Float]) throws {
        guard w.count == rows * columns, s.count == columns else {
            throw QQQError.invalidInput("smoothing: weight \(rows)x\(columns) vs \(s.count) scales")
        }
        for r in 0..<rows { for c in 0..<columns { w[r * columns + c] *= s[c] } }
    }

    /// W[c][k] /= s[c] for a [rows x columns] weight (producing linear: its output row c).
    public static func divideRows(_ w: inout [Float], rows: Int, columns: Int, by s: [Float]) throws {
        guard w.count == rows * columns, s.count == rows else {
            throw QQQError.invalidInput("smoothing: weight \(rows)x\(columns) vs \(s.count) scales")
        }
        for r in 0..<rows { let f = s[r]; for c in 0..<columns { w[r * columns + c] /= f } }
    }
}
