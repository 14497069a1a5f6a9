import Foundation
import Testing
@testable import QQQCore

@Suite("IO half conversions")
struct IOHalfConversionTests {
    @Test func f16KnownValues() {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3555, 0.333251953125),
            (0x7BFF, 65504), (0xFBFF, -65504),
            (0x0001, 5.9604644775390625e-08),       // smallest subnormal, 2^-24
            (0x03FF, 6.097555160522461e-05),        // largest subnormal
            (0x0400, 6.103515625e-05),              // smallest normal, 2^-14
            (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        for (bits, value) in cases {
            #expect(HalfConversion.f16ToF32(bits) == value, "0x\(String(bits, radix: 16))")
            #expect(HalfConversion.f32ToF16(value) == bits, "\(value)")
        }
        let negZero = HalfConversion.f16ToF32(0x8000)
        #expect(negZero == 0 && negZero.sign == .minus)
        #expect(HalfConversion.f32ToF16(-0.0) == 0x8000)
        #expect(HalfConversion.f16ToF32(0x7E00).isNaN)
        #expect(HalfConversion.f16ToF32(0x7C01).isNaN)   // signalling NaN stays NaN
        #expect(HalfConversion.f16ToF32(0xFE00).isNaN)
        let nanBits = HalfConversion.f32ToF16(.nan)
        #expect(nanBits & 0x7C00 == 0x7C00 && nanBits & 0x03FF != 0)
        #expect(HalfConversion.f32ToF16(Float(bitPattern: 0x7F80_0001)) & 0x7FFF > 0x7C00) // sNaN -> NaN, not Inf
    }

    @Test func f16ToF32MatchesFloat16ForAllBitPatterns() {
        var src = (0...0xFFFF).map { UInt16($0) }
        var dst = [Float](repeating: 0, count: src.count)
        HalfConversion.f16ToF32(&src, &dst, count: src.count)
        var mismatches = 0
        for i in 0..<src.count {
            let ref = Float(Float16(bitPattern: src[i]))
            if ref.isNaN { if !dst[i].isNaN { mismatches += 1 } } else if ref.bitPattern != dst[i].bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func f32ToF16RoundsToNearestEven() {
        // Ties: halfway between 1 and the next f16 (1 + 2^-10) goes to even (1); the next tie up goes to 1 + 2^-9.
        #expect(HalfConversion.f32ToF16(1 + 0x1p-11) == 0x3C00)
        #expect(HalfConversion.f32ToF16(1 + 3 * 0x1p-11) == 0x3C02)
        #expect(HalfConversion.f32ToF16((1 + 0x1p-11).nextUp) == 0x3C01)
        // Overflow: 65520 is the tie between 65504 and 65536 (Inf): ties to even -> Inf.
        #expect(HalfConversion.f32ToF16(65520) == 0x7C00)
        #expect(HalfConversion.f32ToF16(Float(65520).nextDown) == 0x7BFF)
        #expect(HalfConversion.f32ToF16(1e10) == 0x7C00)
        #expect(HalfConversion.f32ToF16(-.infinity) == 0xFC00)
        // Subnormal ties: 2^-25 is halfway between 0 and 2^-24 -> 0; 3·2^-25 -> 2·2^-24.
        #expect(HalfConversion.f32ToF16(0x1p-25) == 0x0000)
        #expect(HalfConversion.f32ToF16(Float(0x1p-25).nextUp) == 0x0001)
        #expect(HalfConversion.f32ToF16(3 * 0x1p-25) == 0x0002)
        #expect(HalfConversion.f32ToF16(-0x1p-26) == 0x8000)
        #expect(HalfConversion.f32ToF16(.leastNonzeroMagnitude) == 0x0000)
        // Boundary between largest subnormal and smallest normal.
        #expect(HalfConversion.f32ToF16(Float(0x1p-14).nextDown) == 0x0400)
    }

    @Test func f32ToF16MatchesFloat16() {
        // Every f16 value, each midpoint to the next value and its neighbours, plus random floats.
        var inputs: [Float] = []
        for b in 0...0x7BFF {
            let v = Float(Float16(bitPattern: UInt16(b)))
            let next = Float(Float16(bitPattern: UInt16(b + 1)))
            let mid = (v + next) / 2   // exact in Float
            inputs += [v, -v, mid, -mid, mid.nextUp, mid.nextDown]
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200_000 {
            inputs.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)))
        }
        var out = [UInt16](repeating: 0, count: inputs.count)
        HalfConversion.f32ToF16(inputs, &out, count: inputs.count)
        var mismatches: [(Float, UInt16, UInt16)] = []
        for (i, x) in inputs.enumerated() {
            let ref = Float16(x).bitPattern
            if x.isNaN {
                if out[i] & 0x7C00 != 0x7C00 || out[i] & 0x3FF == 0 { mismatches.append((x, out[i], ref)) }
            } else if out[i] != ref {
                mismatches.append((x, out[i], ref))
            }
        }
        #expect(mismatches.count == 0, "first mismatches: \(mismatches.prefix(5))")
    }

    @Test func bf16KnownValuesAndRounding() {
        #expect(HalfConversion.bf16ToF32(0x3F80) == 1)
        #expect(HalfConversion.bf16ToF32(0xC040) == -3)
        #expect(HalfConversion.bf16ToF32(0x7F80) == .infinity)
        #expect(HalfConversion.bf16ToF32(0x0001) == Float(bitPattern: 0x0001_0000))  // subnormal, exact
        #expect(HalfConversion.bf16ToF32(0x7FC0).isNaN)
        func r(_ bits: UInt32) -> UInt16 { HalfConversion.f32ToBF16(Float(bitPattern: bits)) }
        #expect(r(0x3F80_0000) == 0x3F80)
        #expect(r(0x3F80_8000) == 0x3F80)   // tie, even stays
        #expect(r(0x3F81_8000) == 0x3F82)   // tie, odd rounds up
        #expect(r(0x3F80_8001) == 0x3F81)
        #expect(r(0x3F80_7FFF) == 0x3F80)
        #expect(r(0x0000_8000) == 0x0000)   // subnormal tie to even
        #expect(r(0x0001_8000) == 0x0002)
        #expect(r(0x8000_0000) == 0x8000)   // -0
        #expect(r(0x7F7F_FFFF) == 0x7F80)   // max float rounds to Inf
        #expect(r(0xFF80_0000) == 0xFF80)
        // NaN must stay NaN even when the low bits would carry into the exponent.
        for nan: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0x7FFF_FFFF, 0xFF80_0001, 0x7F80_FFFF] {
            let b = r(nan)
            #expect(b & 0x7F80 == 0x7F80 && b & 0x007F != 0, "0x\(String(nan, radix: 16)) -> 0x\(String(b, radix: 16))")
        }
        // Every bf16 value round-trips.
        let bad = (0...0xFFFF).filter { b in
            !HalfConversion.bf16ToF32(UInt16(b)).isNaN && HalfConversion.f32ToBF16(HalfConversion.bf16ToF32(UInt16(b))) != UInt16(b)
        }
        #expect(bad.isEmpty)
    }

    @Test func unalignedRawSourcesMatchAligned() {
        let count = 10_001  // more than one bounce chunk, odd
        let values = (0..<count).map { Float($0 % 255) - 100 }
        let f16 = HalfConversion.f16Data(values)
        let bf16 = HalfConversion.bf16Data(values)
        for (data, convert) in [(f16, HalfConversion.f16ToF32(raw:_:count:)), (bf16, HalfConversion.bf16ToF32(raw:_:count:))] {
            // Copy to offset 1 of a byte buffer so the source is odd-aligned.
            let buf = UnsafeMutableRawPointer.allocate(byteCount: data.count + 1, alignment: 16)
            defer { buf.deallocate() }
            data.withUnsafeBytes { (buf + 1).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            var a = [Float](repeating: 0, count: count), b = a
            convert(UnsafeRawPointer(buf + 1), &a, count)
            data.withUnsafeBytes { convert($0.baseAddress!, &b, count) }
            #expect(a == values)
            #expect(b == values)
        }
    }
}
