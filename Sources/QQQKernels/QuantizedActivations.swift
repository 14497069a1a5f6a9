import CQQQKernels

/// Per-token int8 activations: `sigma[t] = max|x[t]| / 127`, `a = clamp(rne(x / sigma), -128, 127)`,
/// kept both signed and offset by +128 (the per-channel W4A8 kernel multiplies unsigned activations
/// with small signed weights). Buffers are allocated once for a capacity and reused.
public final class QuantizedActivations {
    public private(set) var capacity: Int
    public let k: Int
    public private(set) var m = 0
    public private(set) var a: UnsafeMutablePointer<Int8>
    public private(set) var ua: UnsafeMutablePointer<UInt8>
    public private(set) var sigma: UnsafeMutablePointer<Float>

    public init(capacity: Int, k: Int) {
        self.capacity = max(1, capacity)
        self.k = k
        a = .allocate(capacity: self.capacity * k)
        ua = .allocate(capacity: self.capacity * k)
        sigma = .allocate(capacity: self.capacity)
    }

    deinit {
        a.deallocate(); ua.deallocate(); sigma.deallocate()
    }

    /// Quantizes `m` rows of `x`; a row with NaN or Inf is an error naming the row.
    public func quantize(_ x: UnsafePointer<Float>, m: Int, ldx: Int, threads: Int = 1, path: KernelPath? = nil) throws {
        if m > capacity {
            a.deallocate(); ua.deallocate(); sigma.deallocate()
            capacity = m
            a = .allocate(capacity: m * k)
            ua = .allocate(capacity: m * k)
            sigma = .allocate(capacity: m)
        }
        self.m = m
        let p = IntKernels.code(path ?? IntKernels.defaultPath)
        let k = self.k
        let (a, ua, sigma) = (self.a, self.ua, self.sigma)
        var firstBad = Int.max
        let lock = NSLockLike()
        IntKernels.parallel(m, threads: m >= 64 ? threads : 1) { lo, hi in
            var bad: Int64 = -1
            if qqq_quantize_rows(p, x + lo * ldx, Int64(hi - lo), Int64(k), Int64(ldx), a + lo * k, ua + lo * k,
                                 Int64(k), sigma + lo, &bad) != 0 {
                lock.withLock { firstBad = min(firstBad, lo + Int(bad)) }
            }
        }
        if firstBad != Int.max {
            throw KernelError.nonFinite("activation row \(firstBad) holds NaN or Inf")
        }
    }
}
