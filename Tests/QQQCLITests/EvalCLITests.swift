import Foundation
import Testing
import QQQKernels

/// `qqq eval` end to end on the tiny fixture, and every kind of bad input: one line on stderr naming
/// the file and the problem, a non-zero exit, never a crash.
@Suite("qqq eval")
struct EvalCLITests {
    /// Random printable text long enough for a few windows of 64 tokens (1 byte = 1 token here).
    static func writeText(_ dir: URL, bytes: Int = 1000) throws -> URL {
        var rng = SplitMix64(seed: 7)
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "slept", "."]
        var s = ""
        while s.utf8.count < bytes { s += words[Int(rng.next() % UInt64(words.count))] + (rng.next() % 9 == 0 ? "\n" : " ") }
        let url = dir.appendingPathComponent("text.txt")
        try s.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func evaluatesTinyModel() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let text = try Self.writeText(dir)
        let r = try CLIRunner.run(["eval", model.path, "--text", text.path, "--seqlen", "64", "--threads", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("PPL = ") }
        #expect(line != nil, "stdout: \(r.stdout)")
        let ppl = Double(line?.dropFirst(6).split(separator: " ").first ?? "") ?? .nan
        // A random model over 256 byte tokens is near-uniform: PPL close to 256, certainly finite.
        #expect(ppl > 100 && ppl < 600, "ppl \(ppl)")
        #expect(r.stdout.contains("windows of 64 tokens"))
        #expect(r.stderr.contains("window 1/"))

        let j = try CLIRunner.run(["eval", model.path, "--text", text.path, "--seqlen", "64", "--limit", "2", "--json"])
        #expect(j.status == 0, "\(j.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        let result = obj?["result"] as? [String: Any]
        #expect(result?["windows"] as? Int == 2)
        #expect((result?["windowNLL"] as? [Double])?.count == 2)
    }

    @Test func w8a8BaselineStaysCloseToFloat() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let text = try Self.writeText(dir)
        func ppl(_ extra: [String]) throws -> Double {
            let r = try CLIRunner.run(["eval", model.path, "--text", text.path, "--seqlen", "64", "--json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            return (obj?["result"] as? [String: Any])?["ppl"] as? Double ?? .nan
        }
        let (f, q) = (try ppl([]), try ppl(["--w8a8"]))
        #expect(f != q && abs(f - q) / f < 0.01, "fp16 \(f) vs w8a8 \(q)")
    }

    @Test func threadsDoNotChangeTheResult() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let text = try Self.writeText(dir)
        let one = try CLIRunner.run(["eval", model.path, "--text", text.path, "--seqlen", "64", "--threads", "1"])
        let two = try CLIRunner.run(["eval", model.path, "--text", text.path, "--seqlen", "64", "--threads", "2"])
        let p1 = one.stdout.split(separator: "\n").first { $0.hasPrefix("PPL") }
        let p2 = two.stdout.split(separator: "\n").first { $0.hasPrefix("PPL") }
        #expect(p1 != nil && p1 == p2)
    }

    /// Runs eval on a broken copy of the fixture and checks the one-line error.
    func expectFailure(_ expected: [String], file: String = "text", break brk: (URL) throws -> Void) throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let text = try Self.writeText(dir)
        try brk(model)
        let r = try CLIRunner.run(["eval", model.path, "--text", text.path, "--seqlen", "64"])
        #expect(r.status == 1, "exit \(r.status), stderr: \(r.stderr)")
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        for piece in expected { #expect(r.stderr.contains(piece), "stderr: \(r.stderr)") }
    }

    @Test func missingConfig() throws {
        try expectFailure(["config.json"]) { try FileManager.default.removeItem(at: $0.appendingPathComponent("config.json")) }
    }

    @Test func unknownArchitecture() throws {
        try expectFailure(["architecture", "GPTNeoXForCausalLM"]) {
            try TinyModelFixture.configJSON(architecture: "GPTNeoXForCausalLM")
                .write(to: $0.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        }
    }

    @Test func truncatedSafetensors() throws {
        try expectFailure(["model.safetensors"]) { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            let data = try Data(contentsOf: url)
            try data.prefix(data.count / 2).write(to: url)
        }
    }

    @Test func missingTensor() throws {
        try expectFailure(["model.layers.1.mlp.up_proj.weight"]) { dir in
            try TinyModelFixture.write(to: dir) { specs in specs.removeAll { $0.0 == "model.layers.1.mlp.up_proj.weight" } }
        }
    }

    @Test func wrongShape() throws {
        try expectFailure(["model.layers.0.self_attn.k_proj.weight", "shape"]) { dir in
            try TinyModelFixture.write(to: dir) { specs in
                if let i = specs.firstIndex(where: { $0.0 == "model.layers.0.self_attn.k_proj.weight" }) { specs[i].1 = [8, 64] }
            }
        }
    }

    @Test func missingTokenizer() throws {
        try expectFailure(["tokenizer.json"]) { try FileManager.default.removeItem(at: $0.appendingPathComponent("tokenizer.json")) }
    }

    @Test func textShorterThanOneWindow() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let text = try Self.writeText(dir, bytes: 20)
        let r = try CLIRunner.run(["eval", model.path, "--text", text.path, "--seqlen", "64"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("text too short"), "\(r.stderr)")
        #expect(r.stderr.contains("64"))
        #expect(r.stderr.contains(text.path), "the error names the file: \(r.stderr)")
    }

    /// `--text` reads pipes too (`--text <(zcat wiki.txt.gz)`, /dev/stdin), which a mapped read refuses.
    @Test func textFromAPipe() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let text = try Self.writeText(dir, bytes: 2000)
        let args = ["--seqlen", "64", "--limit", "2", "--json", "--threads", "1"]
        let fromFile = try CLIRunner.run(["eval", model.path, "--text", text.path] + args)
        let fromPipe = try CLIRunner.run(["eval", model.path, "--text", "/dev/stdin"] + args, stdin: try Data(contentsOf: text))
        #expect(fromFile.status == 0 && fromPipe.status == 0, "\(fromPipe.stderr)")
        func figures(_ r: CLIRun) -> [Double]? {
            let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            guard let result = object?["result"] as? [String: Any],
                  let tokens = result["tokens"] as? Double, let ppl = result["ppl"] as? Double else { return nil }
            return [tokens, ppl]
        }
        #expect(figures(fromFile) != nil && figures(fromPipe) == figures(fromFile), "\(fromPipe.stdout)")
    }

    @Test func missingTextFile() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))
        let r = try CLIRunner.run(["eval", model.path, "--text", dir.appendingPathComponent("nope.txt").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("nope.txt") && r.stderr.contains("no such file"), "\(r.stderr)")
    }

    @Test func missingModelFolder() throws {
        let r = try CLIRunner.run(["eval", "/nonexistent/model", "--text", "/dev/null"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/model"))
    }
}
