import Testing
@testable import QQQCore

@Suite("Calibration activation scans")
struct ActivationScanTests {
    @Test func maxMagnitudeMatchesScalarAndFlagsNaN() {
        for count in [0, 1, 15, 16, 17, 33, 1000] {
            var x = (0..<count).map { Float(($0 * 7919) % 211) - 105.5 }
            if count > 20 { x[count - 3] = -70000 }  // the largest value, negative, in the scalar tail or a lane
            let expected = x.reduce(Float(0)) { max($0, abs($1)) }
            #expect(x.withUnsafeBufferPointer { maxMagnitude($0.baseAddress!, count: count) } == expected)
            if count > 0 { x[count / 2] = .nan; #expect(!(x.withUnsafeBufferPointer { maxMagnitude($0.baseAddress!, count: count) } < 65000)) }
        }
    }

    @Test func allFiniteFindsInfinityAndNaNAnywhere() {
        for count in [1, 16, 17, 40] {
            var x = [Float](repeating: 3e38, count: count)
            #expect(x.withUnsafeBufferPointer { allFinite($0.baseAddress!, count: count) })
            for bad in [Float.infinity, -Float.infinity, Float.nan] {
                for at in [0, count / 2, count - 1] {
                    x[at] = bad
                    #expect(!x.withUnsafeBufferPointer { allFinite($0.baseAddress!, count: count) })
                    x[at] = -3e38
                }
            }
        }
    }
}
