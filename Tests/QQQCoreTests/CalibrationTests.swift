import Testing
@testable import QQQCore

@Suite("Calibration sampling")
struct CalibrationTests {
    // Expected values printed by CPython 3.11's `random`.
    @Test func matchesPythonGetrandbits() {
        var r = PythonRandom(seed: 0)
        #expect([r.getrandbits(32), r.getrandbits(32), r.getrandbits(32)] == [3_626_764_237, 1_654_615_998, 3_255_389_356])
        var wide = PythonRandom(seed: 0)
        #expect([wide.getrandbits(40), wide.getrandbits(40)] == [424_533_559_245, 978_212_965_548])
    }

    @Test func matchesPythonRandint() {
        var r = PythonRandom(seed: 0)
        #expect((0..<5).map { _ in r.randint(0, 302_929) } == [201_979, 220_500, 21_225, 135_746, 268_055])
        var big = PythonRandom(seed: 12_345_678_901)  // a seed wider than 32 bits
        #expect((0..<3).map { _ in big.randint(0, 1000) } == [968, 610, 335])
    }

    @Test func windowsComeFromTheStream() throws {
        let stream = (0..<1000).map { Int32($0) }
        let set = try CalibrationSet(source: "test", stream: stream, nsamples: 4, seqlen: 100, seed: 0)
        #expect(set.nsamples == 4)
        for w in 0..<4 {
            let window = Array(set.tokens[(w * 100)..<((w + 1) * 100)])
            // Consecutive ids: each window is a contiguous slice.
            #expect(zip(window, window.dropFirst()).allSatisfy { $1 == $0 + 1 })
            #expect(window.last! <= 998)  // randint(0, L - seqlen - 1): never the very last token
        }
        let again = try CalibrationSet(source: "test", stream: stream, nsamples: 4, seqlen: 100, seed: 0)
        #expect(again.tokens == set.tokens)
        let other = try CalibrationSet(source: "test", stream: stream, nsamples: 4, seqlen: 100, seed: 1)
        #expect(other.tokens != set.tokens)
    }

    @Test func tooShortTextSaysHowManyTokensAreNeeded() {
        #expect {
            try CalibrationSet(source: "short.txt", stream: [1, 2, 3], nsamples: 1, seqlen: 2048, seed: 0)
        } throws: { error in
            let text = "\(error)"
            return text.contains("short.txt") && text.contains("2049") && text.contains("3 tokens")
        }
    }
}
