import Foundation

/// Calibration windows: the text is tokenized once as one stream and `nsamples` windows of `seqlen`
/// tokens are drawn at random offsets, as the GPTQ/QQQ reference does
/// (`random.seed(seed); i = randint(0, L - seqlen - 1)` per window).
public struct CalibrationSet {
    /// Where the text came from, for reports and the checkpoint's metadata.
    public let source: String
    public let streamTokens: Int
    public let seqlen: Int
    public let seed: UInt64
    /// nsamples × seqlen token ids, window after window.
    public let tokens: [Int32]
    public var nsamples: Int { tokens.count / seqlen }

    public init(source: String, stream: [Int32], nsamples: Int, seqlen: Int, seed: UInt64) throws {
        guard nsamples >= 1, seqlen >= 2 else {
            throw QQQError.invalidInput("calibration needs nsamples >= 1 and seqlen >= 2 (got \(nsamples), \(seqlen))")
        }
        guard stream.count >= seqlen + 1 else {
            throw QQQError.invalidInput("calibration text too short: \(source) has \(stream.count) tokens, at least \(seqlen + 1) are needed for windows of \(seqlen) tokens (give more text or a smaller --seqlen)")
        }
        var rng = PythonRandom(seed: seed)
        var out = [Int32]()
        out.reserveCapacity(nsamples * seqlen)
        for _ in 0..<nsamples {
            let start = rng.randint(0, stream.count - seqlen - 1)
            out.append(contentsOf: stream[start..<(start + seqlen)])
        }
        self.source = source
        self.streamTokens = stream.count
        self.seqlen = seqlen
        self.seed = seed
        self.tokens = out
    }

    /// Loads a plain-text file, a folder of .txt files (sorted by name), or a .jsonl file whose lines
    /// carry a "text" field; pieces are joined with "\n\n" and tokenized once.
    public static func load(path: String, tokenizer: Tokenizer, nsamples: Int, seqlen: Int, seed: UInt64) throws -> CalibrationSet {
        let text = try readText(path)
        let stream = tokenizer.encode(text)
        return try CalibrationSet(source: path, stream: stream, nsamples: nsamples, seqlen: seqlen, seed: seed)
    }

    static func readText(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw QQQError.badFile(path: path, reason: "calibration text not found")
        }
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            let files = names.filter { $0.hasSuffix(".txt") }.sorted()
            guard !files.isEmpty else { throw QQQError.badFile(path: path, reason: "folder holds no .txt files") }
            return try files.map { try readUTF8((path as NSString).appendingPathComponent($0)) }.joined(separator: "\n\n")
        }
        let text = try readUTF8(path)
        guard path.hasSuffix(".jsonl") else { return text }
        var pieces: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                  let piece = object["text"] as? String else {
                throw QQQError.badFile(path: path, reason: "line \(number + 1) is not a JSON object with a \"text\" string")
            }
            pieces.append(piece)
        }
        return pieces.joined(separator: "\n\n")
    }

    /// A UTF-8 text file, with a one-line error naming it.
    public static func readUTF8(_ path: String) throws -> String {
        var contents = FileManager.default.contents(atPath: path)
        if contents == nil, let handle = FileHandle(forReadingAtPath: path) {
            // Pipes and devices (`--text <(zcat wiki.txt.gz)`, /dev/stdin), which the mapped read refuses.
            defer { try? handle.close() }
            contents = try? handle.readToEnd() ?? Data()
        }
        guard let data = contents else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw QQQError.badFile(path: path, reason: !exists ? "no such file" : isDirectory.boolValue ? "is a folder, not a text file" : "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw QQQError.badFile(path: path, reason: "not valid UTF-8 text")
        }
        return text
    }
}
