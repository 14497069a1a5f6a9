import Foundation

/// An output folder written under a temporary name beside its target and renamed into place by
/// `commit()`: a failed run (this object released uncommitted) or an interrupted one (SIGINT/SIGTERM, via
/// `InterruptCleanup`) leaves nothing behind. `scratch` is a second folder beside it for intermediate
/// files that must not reach the output (a writer's spilled tensors); it is removed in every case.
public final class StagedOutputFolder {
    public let target: URL
    /// Where the output's files are written.
    public let folder: URL
    public let scratch: URL
    private var committed = false

    /// Refuses an existing `path` unless `force`; creates the temporary and scratch folders.
    public init(path: String, force: Bool) throws {
        let fm = FileManager.default
        target = URL(fileURLWithPath: path).standardizedFileURL
        if fm.fileExists(atPath: target.path) && !force {
            throw QQQError.invalidInput("\(target.path) already exists (use --force to replace it)")
        }
        let parent = target.deletingLastPathComponent()
        folder = parent.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        scratch = parent.appendingPathComponent(".\(target.lastPathComponent).scratch-\(getpid())")
        InterruptCleanup.register(folder.path)
        InterruptCleanup.register(scratch.path)
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw QQQError.badFile(path: target.path, reason: "cannot create the output folder (\(parent.path) missing or not writable)")
        }
    }

    deinit {
        removeScratch()
        if !committed {
            InterruptCleanup.unregister(folder.path)
            try? FileManager.default.removeItem(at: folder)
        }
    }

    /// A file of the output.
    public func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// Copies those of `names` that exist in `directory` (tokenizer files and the like) into the output.
    public func copyPresent(_ names: [String], from directory: String) throws {
        let fm = FileManager.default
        for name in names {
            let src = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if fm.fileExists(atPath: src.path) { try fm.copyItem(at: src, to: file(name)) }
        }
    }

    /// Replaces the target (if any) with the finished output.
    public func commit() throws {
        let fm = FileManager.default
        removeScratch()
        if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
        try fm.moveItem(at: folder, to: target)
        committed = true
        InterruptCleanup.unregister(folder.path)
    }

    private func removeScratch() {
        InterruptCleanup.unregister(scratch.path)
        try? FileManager.default.removeItem(at: scratch)
    }
}

extension StagedOutputFolder {
    /// The files that travel with a checkpoint's weights.
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "generation_config.json", "tokenizer.model"]
}
