import Foundation
import QQQCore

/// `qqq eval`: perplexity of an FP16/BF16/FP32 or QQQ-quantized checkpoint with the GPTQ/QQQ protocol.
enum EvalCommand: Command {
    static let spec = CommandSpec(
        name: "eval",
        overview: "Perplexity of a model on a text file (GPTQ/QQQ protocol).",
        arguments: [ArgumentSpec(name: "model-dir", help: "Hugging Face model folder (config.json, *.safetensors, tokenizer.json).")],
        options: [
            OptionSpec(name: "text", valueName: "file", help: "Text to evaluate, e.g. wiki.test.raw."),
            OptionSpec(name: "seqlen", valueName: "n", help: "Tokens per window.", defaultValue: "2048"),
            OptionSpec(name: "limit", valueName: "n", help: "Evaluate only the first n windows."),
            OptionSpec(name: "threads", short: "t", valueName: "n", help: "Worker threads.",
                       defaultValue: "\(ProcessInfo.processInfo.activeProcessorCount)"),
            OptionSpec(name: "plain", help: "Tokenize the file as it is, instead of joining its lines with \"\\n\\n\"."),
            OptionSpec(name: "fake-quant", help: "Run a quantized model's W4A8 layers as float emulation (a cross-check of the integer kernels)."),
            OptionSpec(name: "w8a8", help: "Round a float checkpoint's linears to W8A8 at load and run them through the W8A8 kernels (a baseline)."),
            OptionSpec(name: "profile", help: "Print where the time went (per stage) on stderr."),
            OptionSpec(name: "json", help: "Print the result as JSON on stdout."),
        ],
        discussion: """
        PROTOCOL:
          The file is split into lines; each line keeps its newline, whitespace-only lines become empty;
          the lines are joined with "\\n\\n" and tokenized once (the GPTQ/QQQ WikiText-2 rule). The token
          stream is cut into floor(tokens/seqlen) non-overlapping windows from offset 0; each window's loss
          is the mean NLL of its seqlen-1 next-token predictions; PPL = exp(mean of window losses).
        """)

    static func run(_ args: ParsedArguments) throws {
        let modelDir = args.positional(0)!
        guard let textPath = args.string("text") else { throw UsageError(message: "missing '--text <file>'") }
        let seqlen = try args.int("seqlen", range: 2...1_048_576) ?? 2048
        let limit = try args.int("limit", range: 1...1_000_000)
        let threads = try args.int("threads", range: 1...1024) ?? ProcessInfo.processInfo.activeProcessorCount
        let json = args.flag("json")

        var clock = Stopwatch()
        let loaded = try ModelLoader.load(directory: modelDir, fakeQuant: args.flag("fake-quant"), w8a8: args.flag("w8a8"))
        let raw = try CalibrationSet.readUTF8(textPath)
        let text = args.flag("plain") ? raw : EvalText.joinRows(raw)
        clock.reset()
        let tokens = loaded.tokenizer.encode(text)
        let tokenizeSeconds = clock.seconds
        let windows: Int
        do {
            windows = try Perplexity.windowCount(tokens: tokens.count, seqlen: seqlen, limit: limit)
        } catch QQQError.invalidInput(let reason) {
            throw QQQError.badFile(path: textPath, reason: reason)  // "text too short": name the file
        }
        if loaded.config.maxPositionEmbeddings > 0 && seqlen > loaded.config.maxPositionEmbeddings {
            Diagnostics.warning("--seqlen \(seqlen) exceeds the model's max_position_embeddings (\(loaded.config.maxPositionEmbeddings))")
        }
        Diagnostics.write("qqq eval: \(modelDir) (\(loaded.config.architecture.rawValue), \(loaded.weightsDescription)), \(tokens.count) tokens in \(String(format: "%.2f", tokenizeSeconds)) s, \(windows) windows of \(seqlen), \(threads) threads\n")

        StageTimer.shared.enabled = args.flag("profile")
        let progress = ProgressLine(label: "window", total: windows)
        let result = try Perplexity.evaluate(
            model: loaded.model, tokens: tokens,
            options: .init(seqlen: seqlen, limit: limit, threads: threads)) { p in
                progress.update(p.window, detail: String(format: "PPL %.4f, %.0f tokens/s", p.runningPPL, p.tokensPerSecond),
                                elapsed: p.elapsed, eta: p.eta)
            }
        progress.finish()
        if args.flag("profile") {
            let total = StageTimer.shared.report.reduce(0) { $0 + $1.1 }
            for (stage, seconds) in StageTimer.shared.report {
                Diagnostics.write(String(format: "profile: %-22@ %8.2f s  %5.1f%%\n", stage as NSString, seconds, 100 * seconds / max(total, 1e-9)))
            }
        }
        let peak = MemoryUsage.peakResidentBytes ?? 0

        if json {
            let report = EvalReport(model: modelDir, weights: loaded.weightsDescription, text: textPath,
                                    joinRule: args.flag("plain") ? "plain" : "rows joined with \\n\\n",
                                    threads: threads, tokenizeSeconds: tokenizeSeconds, peakRSSBytes: peak, result: result)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            emit(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            emit("model:    \(modelDir) (\(loaded.config.architecture.rawValue), \(loaded.weightsDescription))")
            emit("text:     \(textPath) (\(args.flag("plain") ? "as is" : "lines joined with \"\\n\\n\""), \(result.tokens) tokens)")
            emit("protocol: \(result.windows) non-overlapping windows of \(seqlen) tokens from offset 0, \(seqlen - 1) predictions each")
            emit("speed:    \(String(format: "%.1f", result.tokensPerSecond)) tokens/s, \(String(format: "%.1f", result.seconds)) s, \(threads) threads, peak RSS \(formatBytes(peak))")
            emit(String(format: "PPL = %.4f +/- %.4f", result.ppl, result.pplStandardError))
        }
    }
}

/// The JSON form of an eval result.
struct EvalReport: Encodable {
    let model: String
    let weights: String
    let text: String
    let joinRule: String
    let threads: Int
    let tokenizeSeconds: Double
    let peakRSSBytes: Int
    let result: Perplexity.Result
}
