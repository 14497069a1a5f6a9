import Foundation

/// Perplexity with the GPTQ/QQQ protocol: `floor(tokens/seqlen)` non-overlapping windows from offset 0
/// (the remainder dropped); each window's loss is the mean NLL of its `seqlen-1` shifted predictions;
/// PPL = exp(mean of the window losses).
public enum Perplexity {
    public struct Options {
        public var seqlen: Int
        public var limit: Int?
        public var threads: Int
        public init(seqlen: Int = 2048, limit: Int? = nil, threads: Int) {
            self.seqlen = seqlen; self.limit = limit; self.threads = threads
        }
    }

    /// Where a running evaluation is, for progress lines.
    public struct Progress {
        public let window: Int        // 1-based, just finished
        public let windows: Int
        public let runningPPL: Double
        public let elapsed: Double
        public var tokensPerSecond: Double { Double(window) * tokensPerWindow / max(elapsed, 1e-9) }
        public var eta: Double { elapsed / Double(window) * Double(windows - window) }
        let tokensPerWindow: Double
    }

    public struct Result: Codable {
        public let tokens: Int
        public let seqlen: Int
        public let windows: Int
        public let windowNLL: [Double]
        public let ppl: Double
        /// exp(mean ± standard error of the window losses) spread, as a ± on the PPL (first order).
        public let pplStandardError: Double
        public let seconds: Double
        public let tokensPerSecond: Double
    }

    /// Number of windows the protocol uses, or an error saying how many tokens are needed.
    public static func windowCount(tokens: Int, seqlen: Int, limit: Int?) throws -> Int {
        guard seqlen >= 2 else { throw QQQError.invalidInput("seqlen must be at least 2, got \(seqlen)") }
        let n = tokens / seqlen
        guard n >= 1 else {
            throw QQQError.invalidInput("text too short: \(tokens) tokens, at least \(seqlen) needed for one window of --seqlen \(seqlen)")
        }
        if let limit { return min(n, max(1, limit)) }
        return n
    }

    public static func evaluate(model: LlamaModel, tokens: [Int32], options: Options,
                                progress: ((Progress) -> Void)? = nil) throws -> Result {
        let windows = try windowCount(tokens: tokens.count, seqlen: options.seqlen, limit: options.limit)
        var losses: [Double] = []
        var clock = Stopwatch()
        clock.reset()
        try tokens.withUnsafeBufferPointer { all in
            for w in 0..<windows {
                let window = UnsafeBufferPointer(rebasing: all[(w * options.seqlen)..<((w + 1) * options.seqlen)])
                let nll = try model.meanNLL(window, threads: options.threads)
                guard nll.isFinite else {
                    throw QQQError.numerical("window \(w + 1) has a non-finite loss (\(nll)): the model produced NaN or Inf")
                }
                losses.append(nll)
                let mean = losses.reduce(0, +) / Double(losses.count)
                progress?(Progress(window: w + 1, windows: windows, runningPPL: exp(mean), elapsed: clock.seconds,
                                   tokensPerWindow: Double(options.seqlen)))
            }
        }
        let seconds = clock.seconds
        let mean = losses.reduce(0, +) / Double(windows)
        var se = 0.0
        if windows > 1 {
            let variance = losses.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(windows - 1)
            se = (variance / Double(windows)).squareRoot()
        }
        let ppl = exp(mean)
        return Result(tokens: tokens.count, seqlen: options.seqlen, windows: windows, windowNLL: losses, ppl: ppl,
                      pplStandardError: ppl * se, seconds: seconds,
                      tokensPerSecond: Double(windows * options.seqlen) / max(seconds, 1e-9))
    }
}
