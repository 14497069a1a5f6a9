import Foundation

/// GPTQ settings (QQQ-METHOD 1.1 / 4.4 defaults).
public struct GPTQOptions: Sendable, Equatable {
    /// -1: one scale per output row (levels [-7,7]); > 0 (128): one per row and column group ([-8,7]).
    public var groupSize: Int
    public var actOrder: Bool
    /// Group parameters from the original (dead-zeroed) weights before any update. Required with
    /// actOrder so that group = column / groupSize holds at packing time.
    public var staticGroups: Bool
    public var percDamp: Double
    public var blockSize: Int
    /// Clip search for the scales (grid 100, maxshrink 0.8, norm 2.4).
    public var mse: Bool
    /// On a failed Cholesky the damping is multiplied by 10, at most this many times.
    public var maxDampRetries: Int

    public init(groupSize: Int = -1, actOrder: Bool = true, staticGroups: Bool = true,
                percDamp: Double = 0.01, blockSize: Int = 128, mse: Bool = false, maxDampRetries: Int = 6) {
        self.groupSize = groupSize
        self.actOrder = actOrder
        self.staticGroups = staticGroups
        self.percDamp = percDamp
        self.blockSize = blockSize
        self.mse = mse
        self.maxDampRetries = maxDampRetries
    }

    var quantizer: WeightQuantizer {
        WeightQuantizer(granularity: groupSize > 0 ? .perGroup : .perChannel, mse: mse)
    }

    func validate(rows: Int, columns: Int, layerName: String) throws {
        guard rows > 0, columns > 0 else {
            throw QQQError.invalidInput("\(layerName): empty weight (\(rows) x \(columns))")
        }
        guard groupSize == -1 || groupSize > 0 else {
            throw QQQError.invalidInput("\(layerName): group size \(groupSize) (use -1 or a positive size)")
        }
        guard blockSize > 0 else { throw QQQError.invalidInput("\(layerName): GPTQ block size \(blockSize)") }
        guard percDamp > 0, percDamp.isFinite else {
            throw QQQError.invalidInput("\(layerName): damping fraction \(percDamp) must be positive")
        }
        if groupSize > 0 && actOrder && !staticGroups {
            throw QQQError.invalidInput(
                "\(layerName): act-order with dynamic groups would mis-assign group scales; enable static groups")
        }
    }
}

/// One quantised linear: integer codes, scales, the fake-quantised weight and GPTQ's statistics.
public struct GPTQResult: Sendable {
    public let rows: Int       // N (out features)
    public let columns: Int    // K (in features)
    /// -1 per-channel, else the group size.
    public let groupSize: Int
    /// Codes q[n][k], N x K row-major: per-channel in [-7,7], per-group in [-8,7].
    public var codes: [Int8]
    /// Per-channel: Delta_n, [N]. Per-group: Delta_{n,g}, [N][groupCount] row-major.
    public var scales: [Float]
    /// scale * code, N x K row-major (the weight the next layer's inputs are computed with).
    public var dequantized: [Float]
    /// Σ (w - q)² / d² / 2 as IST GPTQ prints it (0 for round-to-nearest).
    public var loss: Double
    /// Damping fraction finally used (0 for round-to-nearest).
    public var percDampUsed: Double
    public var warnings: [String]

    public var groupCount: Int { groupSize > 0 ? (columns + groupSize - 1) / groupSize : 1 }

    /// Scale of element (n, k).
    public func scale(row n: Int, column k: Int) -> Float {
        groupSize > 0 ? scales[n * groupCount + k / groupSize] : scales[n]
    }
}
