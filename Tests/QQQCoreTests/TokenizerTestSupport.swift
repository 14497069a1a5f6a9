import Foundation
import Testing
@testable import QQQCore

/// Paths and a compact SHA-256 for the tokenizer tests (no CryptoKit on Linux).
enum TokenizerTestSupport {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var sharedDir: URL {
        if let env = ProcessInfo.processInfo.environment["QQQ_SHARED_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// The demo model folder, or nil (with the reason printed) when it is absent.
    static func smolLM2Dir() -> String? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["QQQ_MODEL_DIR"], !env.isEmpty { candidates.append(env) }
        candidates.append(repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct").path)
        candidates.append("/work/main/models/SmolLM2-135M-Instruct")
        for c in candidates where FileManager.default.fileExists(atPath: c + "/tokenizer.json") { return c }
        print("skip: SmolLM2 tokenizer.json not found in \(candidates.joined(separator: ", "))")
        return nil
    }

    /// A reference file from the shared folder (its absence is a test failure: CI has it).
    static func readJSON(_ url: URL) -> Any? {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("\(url.path) not found")
            return nil
        }
        return try? JSONSerialization.jsonObject(with: data)
    }

    static func ints(_ any: Any?) -> [Int32] {
        (any as? [Any] ?? []).compactMap { ($0 as? NSNumber).map { Int32(truncating: $0) } }
    }

    /// The WikiText-2 test text joined by the evaluation rule, or nil (recorded as a failure).
    static func wikiTestText() -> String? {
        let url = sharedDir.appendingPathComponent("data/wikitext-2-raw/wiki.test.raw")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("\(url.path) not found")
            return nil
        }
        return EvalText.joinRows(String(decoding: data, as: UTF8.self))
    }

    /// sha256 hex of the ids as little-endian int32, as the reference files give it.
    static func sha256(ids: [Int32]) -> String { SHA256.hex(ids: ids) }

    static func sha256(_ message: [UInt8]) -> String { SHA256.hex(message) }
}
