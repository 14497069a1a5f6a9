import Dispatch
import Foundation

/// Accumulates wall time per named stage (e.g. "attention", "lm_head") when enabled, for
/// `qqq eval --profile`. Disabled, `measure` costs one branch.
public final class StageTimer: @unchecked Sendable {
    public static let shared = StageTimer()
    public var enabled = false
    private var totals: [String: Double] = [:]
    private var order: [String] = []
    private let lock = NSLock()

    @discardableResult
    public func measure<R>(_ stage: String, _ body: () throws -> R) rethrows -> R {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let dt = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            lock.lock()
            if totals[stage] == nil { order.append(stage) }
            totals[stage, default: 0] += dt
            lock.unlock()
        }
        return try body()
    }

    /// (stage, seconds) in first-seen order.
    public var report: [(String, Double)] {
        lock.lock(); defer { lock.unlock() }
        return order.map { ($0, totals[$0]!) }
    }
}
