import Foundation

/// Timing of one benchmark cell: per-call seconds over repeats after a warm-up.
public struct BenchTiming: Codable, Sendable {
    public let repeats: Int
    public let median: Double
    public let min: Double
    public let max: Double
    /// Half the inter-quartile range relative to the median: the "±" printed in tables.
    public let spread: Double

    public init(samples: [Double]) {
        let s = samples.sorted()
        repeats = s.count
        median = Self.quantile(s, 0.5)
        min = s.first ?? 0
        max = s.last ?? 0
        let iqr = Self.quantile(s, 0.75) - Self.quantile(s, 0.25)
        spread = median > 0 ? iqr / 2 / median : 0
    }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Swift.min(sorted.count - 1, lo + 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }

    /// Runs `body` once to warm up, then repeatedly until `minSeconds` have passed and at least
    /// `minRepeats` calls were timed; `body(i)` gets the repeat index (to cycle weight copies).
    public static func measure(minSeconds: Double = 0.3, minRepeats: Int = 3, maxRepeats: Int = 10_000,
                               _ body: (Int) throws -> Void) rethrows -> BenchTiming {
        try body(0)
        var samples: [Double] = []
        var total = 0.0
        var i = 1
        while (total < minSeconds || samples.count < minRepeats) && samples.count < maxRepeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body(i)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            samples.append(dt)
            total += dt
            i += 1
        }
        return BenchTiming(samples: samples)
    }
}
