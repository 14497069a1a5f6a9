import Foundation

// Whole-buffer scans of the calibration activations (tens of millions of floats per layer).

/// max |x[i]| over `count` floats (a NaN counts as larger than any number), as an integer maximum of the
/// magnitude bits: for non-negative floats the bit order is the numeric order, and LLVM vectorizes an
/// unsigned max where the float reduction (and Swift's generic SIMD types) stayed scalar.
func maxMagnitude(_ x: UnsafePointer<Float>, count: Int) -> Float {
    let bits = UnsafeRawPointer(x).assumingMemoryBound(to: UInt32.self)
    var m: UInt32 = 0
    for i in 0..<count { m = max(m, bits[i] & 0x7FFF_FFFF) }
    return Float(bitPattern: m)
}

/// Whether every one of `count` floats is finite (no exponent field of all ones), the same integer way.
func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
    let bits = UnsafeRawPointer(x).assumingMemoryBound(to: UInt32.self)
    var m: UInt32 = 0
    for i in 0..<count { m = max(m, bits[i] & 0x7F80_0000) }
    return m != 0x7F80_0000
}

/// `maxMagnitude` over ranges in parallel (a maximum does not depend on the order).
func maxMagnitude(_ x: UnsafePointer<Float>, count: Int, threads: Int) -> Float {
    let lock = NSLock()
    var m: Float = 0
    parallelElements(count, threads: threads) { off, n in
        let part = maxMagnitude(x + off, count: n)
        lock.lock(); if part.bitPattern > m.bitPattern { m = part }; lock.unlock()
    }
    return m
}

/// `allFinite` over ranges in parallel.
func allFinite(_ x: UnsafePointer<Float>, count: Int, threads: Int) -> Bool {
    let lock = NSLock()
    var ok = true
    parallelElements(count, threads: threads) { off, n in
        let part = allFinite(x + off, count: n)
        lock.lock(); ok = ok && part; lock.unlock()
    }
    return ok
}
