import Foundation

/// A view of a tensor's bytes inside a mapped file; holding it keeps the mapping alive.
/// Data is little-endian and may be unaligned (safetensors does not align tensors).
public struct Tensor: @unchecked Sendable {
    public let info: TensorInfo
    public let file: MappedFile
    /// Path of the file the tensor came from, for error messages.
    public var path: String { file.path }

    /// Only `SafetensorsFile` makes tensors, after checking the range lies inside the mapping.
    init(info: TensorInfo, file: MappedFile) {
        self.info = info
        self.file = file
    }

    public var name: String { info.name }
    public var dtype: DType { info.dtype }
    public var shape: [Int] { info.shape }
    public var elementCount: Int { info.elementCount }

    /// First byte of the tensor. Possibly unaligned: use `loadUnaligned` or the conversions here.
    public var raw: UnsafeRawPointer {
        // A validated safetensors file is at least 8 bytes long, so the mapping has a base.
        (file.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!) + info.byteOffset
    }

    public var rawBuffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw, count: info.byteCount)
    }

    /// Lets the kernel drop the tensor's mapped pages (they are read again from the file if touched):
    /// a streaming reader that has copied a layer out would otherwise keep the whole file resident.
    public func dropPages() {
        file.dontNeed(info.byteOffset..<(info.byteOffset + info.byteCount))
    }

    /// The whole tensor as Float. F32, F16 and BF16 only.
    public func toFloat32() throws -> [Float] {
        let n = elementCount
        try checkFloat()
        return [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            if let base = buf.baseAddress { convert(into: base, elementOffset: 0, count: n) }
            initialized = n
        }
    }

    /// Converts elements `elementOffset ..< elementOffset + count` (flat, row-major) to Float
    /// into `dst`, so callers can stream rows without materializing the whole tensor.
    public func copyFloat32(into dst: UnsafeMutablePointer<Float>, elementOffset: Int, count: Int) throws {
        try checkFloat()
        guard elementOffset >= 0, count >= 0, elementOffset <= elementCount - count else {
            throw QQQError.badTensor(path: path, tensor: name,
                reason: "elements \(elementOffset)..<\(elementOffset + count) out of range (\(elementCount) elements)")
        }
        convert(into: dst, elementOffset: elementOffset, count: count)
    }

    private func checkFloat() throws {
        switch dtype {
        case .f32, .f16, .bf16: return
        default:
            throw QQQError.badTensor(path: path, tensor: name,
                reason: "dtype \(dtype.rawValue) cannot be converted to F32 (expected F32, F16 or BF16)")
        }
    }

    private func convert(into dst: UnsafeMutablePointer<Float>, elementOffset: Int, count: Int) {
        let src = raw + elementOffset * dtype.byteSize
        switch dtype {
        case .f32: HalfConversion.f32Copy(raw: src, dst, count: count)
        case .f16: HalfConversion.f16ToF32(raw: src, dst, count: count)
        case .bf16: HalfConversion.bf16ToF32(raw: src, dst, count: count)
        default: break
        }
    }
}
