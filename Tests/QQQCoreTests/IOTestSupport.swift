import Foundation
import Testing
@testable import QQQCore

/// A fresh temporary folder, removed when the closure returns.
func withTempDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("qqq-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Bytes of a safetensors file with a hand-written header (for corrupt inputs). The header is
/// used as given; `declaredLength` overrides the 8-byte length field.
func rawSafetensors(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    rawSafetensors(headerBytes: Array(header.utf8), data: data, declaredLength: declaredLength)
}

func rawSafetensors(headerBytes: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var out = Data()
    var n = (declaredLength ?? UInt64(headerBytes.count)).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(contentsOf: headerBytes)
    out.append(contentsOf: data)
    return out
}

/// Runs `body` expecting a QQQError whose one-line description contains every one of `parts`.
func expectQQQError(_ parts: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing \(parts)", sourceLocation: sourceLocation)
    } catch let error as QQQError {
        let text = error.description
        #expect(!text.contains("\n"), "error is not one line: \(text)", sourceLocation: sourceLocation)
        for p in parts {
            #expect(text.contains(p), "error '\(text)' does not mention '\(p)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected QQQError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Writes `data` to `dir/name` and returns the path.
@discardableResult
func writeFile(_ dir: String, _ name: String, _ data: Data) throws -> String {
    let path = (dir as NSString).appendingPathComponent(name)
    try data.write(to: URL(fileURLWithPath: path))
    return path
}

/// The demo model folder, or nil (with a printed skip reason) when it is absent.
func demoModelDirectory() -> String? {
    let env = ProcessInfo.processInfo.environment
    var candidates: [String] = []
    if let d = env["QQQ_MODEL_DIR"], !d.isEmpty { candidates.append(d) }
    // Tests/QQQCoreTests/<file> -> repo root.
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    candidates.append(repo.appendingPathComponent("models/SmolLM2-135M-Instruct").path)
    for c in candidates where FileManager.default.fileExists(atPath: (c as NSString).appendingPathComponent("config.json")) {
        return c
    }
    print("skip: demo model not found (set QQQ_MODEL_DIR or put it at <repo>/models/SmolLM2-135M-Instruct)")
    return nil
}
