import Foundation

/// Temporary outputs to delete if the process is interrupted (SIGINT, SIGTERM) before they are
/// renamed into place, so a stopped run leaves nothing half-written behind. The core only registers
/// paths; the executable decides how signals are handled (`installSignalHandlers`).
public enum InterruptCleanup {
    nonisolated(unsafe) private static var paths: Set<String> = []
    private static let lock = NSLock()
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    public static func register(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.insert(path)
    }

    public static func unregister(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.remove(path)
    }

    /// Removes every registered path (called on interruption).
    public static func removeAll() {
        lock.lock(); defer { lock.unlock() }
        for p in paths { try? FileManager.default.removeItem(atPath: p) }
        paths.removeAll()
    }

    /// SIGINT and SIGTERM: remove the registered paths, then exit with 128 + signal, as a shell expects.
    public static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)  // the dispatch source below receives it instead
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                removeAll()
                FileHandle.standardError.write(Data("\nqqq: interrupted; temporary output removed\n".utf8))
                exit(128 + sig)
            }
            source.resume()
            lock.lock(); sources.append(source); lock.unlock()
        }
    }
}
