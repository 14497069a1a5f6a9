import CQQQKernels
import Dispatch
import Foundation

/// Shared plumbing of the integer kernels: path choice and thread split.
public enum IntKernels {
    static let defaultPath: KernelPath = (try? KernelDispatch.defaultPath()) ?? .portable

    /// The integer code that runs for `path`: portable, AVX2, or the vpdpbusd kernels of AVX-VNNI and
    /// AVX-512. The AVX-512 kernels need AVX512-VNNI too: an AVX-512 CPU without it (e.g. Skylake-X)
    /// keeps the AVX2 int8 code, whose vpmaddubsw sequence 512-bit vectors alone would barely speed up.
    public static func implementedPath(_ path: KernelPath, cpu: CPUFeatures = .host) -> KernelPath {
        switch path {
        case .portable: return .portable
        case .avx2: return .avx2
        case .avxvnni: return cpu.avxVNNI ? .avxvnni : .avx2
        case .avx512: return cpu.avx512VNNI ? .avx512 : .avx2
        }
    }

    static func code(_ path: KernelPath) -> Int32 {
        switch implementedPath(path) {
        case .portable: return Int32(QQQ_PATH_PORTABLE)
        case .avx2: return Int32(QQQ_PATH_AVX2)
        case .avxvnni: return Int32(QQQ_PATH_AVXVNNI)
        case .avx512: return Int32(QQQ_PATH_AVX512)
        }
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

/// Work split across threads, shared by the kernels and the core library.
public enum WorkSplit {
    /// Runs `tasks` independent tasks on up to `threads` workers, handed out in order one at a time
    /// (a worker that finishes early takes the next); `body(task, worker)` gets a worker index for
    /// per-worker scratch.
    public static func tasks(_ tasks: Int, threads: Int, _ body: (Int, Int) -> Void) {
        guard tasks > 0 else { return }
        let workers = max(1, min(threads, tasks))
        if workers == 1 { for t in 0..<tasks { body(t, 0) }; return }
        let next = TaskCounter()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            while true {
                let t = next.take()
                if t >= tasks { break }
                body(t, w)
            }
        }
    }

    /// Splits 0..<count into about `perWorker` chunks per worker (multiples of `align`, the last
    /// shorter), handed out as `tasks`. With static halves, a late-woken or slowed thread left the
    /// other idle for ~6% of a calibration's integer GEMM time (perf, Zen 3).
    public static func chunks(_ count: Int, align: Int, threads: Int, perWorker: Int = 4, _ body: (Int, Int) -> Void) {
        let units = (count + align - 1) / align
        let workers = max(1, min(threads, units))
        if workers == 1 { if count > 0 { body(0, count) }; return }
        let chunk = max(1, (units + workers * perWorker - 1) / (workers * perWorker)) * align
        tasks((count + chunk - 1) / chunk, threads: workers) { i, _ in body(i * chunk, min(count, (i + 1) * chunk)) }
    }
}

/// The next task index of `WorkSplit.tasks` (a lock per task: tasks are milliseconds long).
private final class TaskCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value - 1
    }
}

/// A minimal lock (Foundation's NSLock) with a closure helper.
final class NSLockLike: @unchecked Sendable {
    private let lock = NSLock()
    func withLock<R>(_ body: () -> R) -> R { lock.lock(); defer { lock.unlock() }; return body() }
}
