import CQQQKernels
import Dispatch
import Foundation

/// Shared plumbing of the integer kernels: path choice and thread split.
public enum IntKernels {
    static let defaultPath: KernelPath = (try? KernelDispatch.defaultPath()) ?? .portable

    /// The integer kernels implement AVX2 and portable code; the VNNI and AVX-512 paths fall back to
    /// the AVX2 code (they need a CPU that has them to be written and tested).
    public static func implementedPath(_ path: KernelPath) -> KernelPath { path == .portable ? .portable : .avx2 }

    static func code(_ path: KernelPath) -> Int32 {
        implementedPath(path) == .portable ? Int32(QQQ_PATH_PORTABLE) : Int32(QQQ_PATH_AVX2)
    }

    /// Splits 0..<count into contiguous ranges, one per worker (inline for one).
    static func parallel(_ count: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let workers = max(1, min(threads, count))
        if workers == 1 { body(0, count); return }
        let per = (count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = w * per, hi = min(count, lo + per)
            if lo < hi { body(lo, hi) }
        }
    }
}

/// A minimal lock (Foundation's NSLock) with a closure helper.
final class NSLockLike: @unchecked Sendable {
    private let lock = NSLock()
    func withLock<R>(_ body: () -> R) -> R { lock.lock(); defer { lock.unlock() }; return body() }
}
