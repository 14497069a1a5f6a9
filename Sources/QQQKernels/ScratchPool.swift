import Foundation

/// Reusable, 64-byte aligned scratch buffers for kernel calls: a caller takes one for the duration of
/// a call and gives it back, so steady-state calls never allocate and concurrent callers never share.
final class ScratchPool: @unchecked Sendable {
    private let floats: Int
    private var free: [UnsafeMutablePointer<Float>] = []
    private let lock = NSLock()

    init(floats: Int) { self.floats = floats }

    func withBuffer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        lock.lock()
        let buffer = free.popLast() ?? {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
            return raw.bindMemory(to: Float.self, capacity: floats)
        }()
        lock.unlock()
        defer {
            lock.lock()
            free.append(buffer)
            lock.unlock()
        }
        return try body(buffer)
    }
}
