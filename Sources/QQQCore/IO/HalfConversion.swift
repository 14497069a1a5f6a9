import Foundation

/// IEEE half (F16) and bfloat16 (BF16) <-> Float conversion over buffers.
///
/// The loops are branch-free integer/float bit manipulation (selects, shifts, one float add) so
/// LLVM vectorizes them; `Float(Float16)` would be a libcall per element on x86-64 without F16C.
/// All conversions to 16 bits round to nearest, ties to even; NaN stays NaN (quieted), infinities
/// and signed zeros are preserved, subnormals are exact both ways.
public enum HalfConversion {
    // MARK: scalar

    @inline(__always)
    public static func f16ToF32(_ h: UInt16) -> Float {
        // Move exponent+mantissa into float position and rebias 15 -> 127. Inf/NaN need the
        // exponent pushed further to 255; zero/subnormal are renormalized by one float subtract
        // (exact: the result is representable).
        let shiftedExp: UInt32 = 0x7C00 << 13
        var o = (UInt32(h) & 0x7FFF) << 13
        let exp = o & shiftedExp
        o &+= (127 - 15) << 23
        let infNaN = o &+ ((128 - 16) << 23)
        let sub = Float(bitPattern: o &+ (1 << 23)) - Float(bitPattern: 113 << 23)
        var bits = exp == shiftedExp ? infNaN : o
        bits = exp == 0 ? sub.bitPattern : bits
        return Float(bitPattern: bits | ((UInt32(h) & 0x8000) << 16))
    }

    @inline(__always)
    public static func f32ToF16(_ value: Float) -> UInt16 {
        let f32inf: UInt32 = 255 << 23
        let f16max: UInt32 = (127 + 16) << 23               // 65536.0: first value that overflows
        let denormMagic: UInt32 = ((127 - 15) + (23 - 10) + 1) << 23  // 0.5
        let x = value.bitPattern
        let sign = x & 0x8000_0000
        let a = x ^ sign
        // Overflow: Inf, or quiet NaN keeping the top mantissa bits (payload) where they fit.
        let nanBits: UInt32 = 0x7E00 | ((a >> 13) & 0x3FF)
        let big: UInt32 = a > f32inf ? nanBits : 0x7C00
        // Result is subnormal or zero: adding 0.5 lets the FPU do the RNE shift for us.
        let subBits = (Float(bitPattern: a) + Float(bitPattern: denormMagic)).bitPattern &- denormMagic
        // Normal: rebias, add 0xFFF plus the lowest kept mantissa bit = round half to even.
        let mantOdd = (a >> 13) & 1
        let normBits = (a &+ (UInt32(bitPattern: Int32(15 - 127) << 23) &+ 0xFFF) &+ mantOdd) >> 13
        var o = a < (113 << 23) ? subBits : normBits
        o = a >= f16max ? big : o
        return UInt16(truncatingIfNeeded: o | (sign >> 16))
    }

    @inline(__always)
    public static func bf16ToF32(_ b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    @inline(__always)
    public static func f32ToBF16(_ value: Float) -> UInt16 {
        let x = value.bitPattern
        let rounded = (x &+ 0x7FFF &+ ((x >> 16) & 1)) >> 16
        // NaN must not round into Inf (or wrap the sign): keep it and set the quiet bit.
        let nan = (x >> 16) | 0x40
        let isNaN = (x & 0x7FFF_FFFF) > 0x7F80_0000
        return UInt16(truncatingIfNeeded: isNaN ? nan : rounded)
    }

    // MARK: buffers (typed, aligned)

    public static func f16ToF32(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<max(0, count) { dst[i] = f16ToF32(src[i]) }
    }

    public static func f32ToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<max(0, count) { dst[i] = f32ToF16(src[i]) }
    }

    public static func bf16ToF32(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<max(0, count) { dst[i] = bf16ToF32(src[i]) }
    }

    public static func f32ToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<max(0, count) { dst[i] = f32ToBF16(src[i]) }
    }

    // MARK: buffers (raw little-endian source, any alignment)

    /// Converts `count` little-endian F16 values at `src` (any alignment, e.g. inside a mapped file).
    public static func f16ToF32(raw src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        withAligned16(src, count: count) { s, off, n in f16ToF32(s, dst + off, count: n) }
    }

    /// Converts `count` little-endian BF16 values at `src` (any alignment).
    public static func bf16ToF32(raw src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        withAligned16(src, count: count) { s, off, n in bf16ToF32(s, dst + off, count: n) }
    }

    /// Copies `count` little-endian F32 values at `src` (any alignment).
    public static func f32Copy(raw src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        memcpy(dst, src, count * 4)
    }

    /// Calls `body` over aligned UInt16 chunks of the data at `src`: directly when `src` is
    /// 2-byte aligned, else through a small stack-sized bounce buffer (memcpy handles the
    /// misalignment; the conversion loop then stays vectorizable).
    @inline(__always)
    private static func withAligned16(_ src: UnsafeRawPointer, count: Int,
                                      _ body: (UnsafePointer<UInt16>, Int, Int) -> Void) {
        guard count > 0 else { return }
        if Int(bitPattern: src) & 1 == 0 {
            body(src.assumingMemoryBound(to: UInt16.self), 0, count)
            return
        }
        let chunk = 4096
        let tmp = UnsafeMutablePointer<UInt16>.allocate(capacity: min(chunk, count))
        defer { tmp.deallocate() }
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            memcpy(tmp, src + 2 * done, 2 * n)
            body(UnsafePointer(tmp), done, n)
            done += n
        }
    }

    // MARK: arrays

    /// Float values as little-endian F16 bytes.
    public static func f16Data(_ values: [Float]) -> Data {
        var d = Data(count: values.count * 2)
        d.withUnsafeMutableBytes { b in
            values.withUnsafeBufferPointer { v in
                if let base = v.baseAddress, let out = b.baseAddress {
                    f32ToF16(base, out.assumingMemoryBound(to: UInt16.self), count: v.count)
                }
            }
        }
        return d
    }

    /// Float values as little-endian BF16 bytes.
    public static func bf16Data(_ values: [Float]) -> Data {
        var d = Data(count: values.count * 2)
        d.withUnsafeMutableBytes { b in
            values.withUnsafeBufferPointer { v in
                if let base = v.baseAddress, let out = b.baseAddress {
                    f32ToBF16(base, out.assumingMemoryBound(to: UInt16.self), count: v.count)
                }
            }
        }
        return d
    }

    /// Float values as little-endian F32 bytes.
    public static func f32Data(_ values: [Float]) -> Data {
        values.withUnsafeBytes { Data($0) }
    }

    /// Alias kept for callers that spell it this way.
    public static func bf16Bits(_ v: Float) -> UInt16 { f32ToBF16(v) }
    /// Alias kept for callers that spell it this way.
    public static func bf16ToFloat(_ bits: UInt16) -> Float { bf16ToF32(bits) }
}
