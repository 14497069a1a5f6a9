import Foundation

/// Runs the built `qqq` executable (it sits beside the test bundle in the build folder) and
/// captures its output, as swift-argument-parser's example tests do.
struct CLIRun {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum CLIRunner {
    static var executable: URL {
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        // The test runner may live inside an .xctest bundle folder.
        while dir.pathExtension == "xctest" || dir.lastPathComponent == "MacOS" || dir.lastPathComponent == "Contents" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("qqq")
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil) throws -> CLIRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = stdin.map { _ in Pipe() }
        if let input { process.standardInput = input }
        try process.run()
        // Small inputs only: they fit in the pipe's buffer, so this write cannot wait on the child.
        if let input, let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        // Read before waiting so a full pipe cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIRun(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Repository root (this file is Tests/QQQCLITests/CLIRunner.swift).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The shared material folder: $QQQ_SHARED_DIR or <repo>/../shared.
    static var sharedDir: URL {
        if let env = ProcessInfo.processInfo.environment["QQQ_SHARED_DIR"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// The demo model folder if present: $QQQ_MODEL_DIR or <repo>/models/SmolLM2-135M-Instruct.
    static var modelDir: URL? {
        let env = ProcessInfo.processInfo.environment["QQQ_MODEL_DIR"]
        let url = env.map { URL(fileURLWithPath: $0) } ?? repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) ? url : nil
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qqq-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
