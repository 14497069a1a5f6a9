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
