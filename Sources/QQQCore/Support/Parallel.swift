import Dispatch
import Foundation
import QQQKernels

/// Splits 0..<count into at most `threads` contiguous ranges run with concurrentPerform
/// (inline when one thread suffices, so small work does not pay for waking the pool).
func parallelRanges(_ count: Int, threads: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let workers = max(1, min(threads, count / max(1, minPerThread)))
    if workers == 1 { body(0..<count); return }
    let chunk = (count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let lo = w * chunk
        let hi = min(count, lo + chunk)
        if lo < hi { body(lo..<hi) }
    }
}

/// Runs `tasks` independent tasks on `threads` workers, handing them out in order (callers put the
/// most expensive first). `body(task, worker)` gets a worker index for per-worker scratch.
func parallelTasks(_ tasks: Int, threads: Int, _ body: (Int, Int) -> Void) {
    WorkSplit.tasks(tasks, threads: threads, body)
}

/// An elementwise pass over `count` values of a window-sized buffer, split across workers in contiguous
/// ranges (at least 64 Ki values each, so small buffers stay on the calling thread).
func parallelElements(_ count: Int, threads: Int, _ body: (_ offset: Int, _ count: Int) -> Void) {
    parallelRanges(count, threads: threads, minPerThread: 1 << 16) { r in body(r.lowerBound, r.count) }
}
