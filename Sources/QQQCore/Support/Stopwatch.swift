import Dispatch

/// Monotonic wall-clock timer.
public struct Stopwatch {
    private var start = DispatchTime.now().uptimeNanoseconds
    public init() {}
    public var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    public mutating func reset() { start = DispatchTime.now().uptimeNanoseconds }
}
