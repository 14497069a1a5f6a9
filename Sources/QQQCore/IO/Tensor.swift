import Foundation
import QQQKernels

/// Where a tensor lives in a safetensors file.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Absolute byte offset of the first element in the file.
    public let byteOffset: Int
    public let byteCount: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A tensor's bytes inside a mapped file (possibly unaligned); holds the mapping alive.
public struct Tensor: @unchecked Sendable {
    public let info: TensorInfo
    public let file: MappedFile

    public var name: String { info.name }
    public var dtype: DType { info.dtype }
    public var shape: [Int] { info.shape }
    public var elementCount: Int { info.elementCount }
    public var raw: UnsafeRawPointer { file.bytes.baseAddress! + info.byteOffset }
    public var rawBuffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: raw, count: info.byteCount) }

    /// The whole tensor as fp32 (F32, F16, BF16).
    public func toFloat32() throws -> [Float] {
        var out = [Float](repeating: 0, count: elementCount)
        try out.withUnsafeMutableBufferPointer { try copyFloat32(into: $0.baseAddress!, elementOffset: 0, count: elementCount) }
        return out
    }

    /// Converts `count` elements starting at `elementOffset` to fp32 (for streaming rows).
    public func copyFloat32(into dst: UnsafeMutablePointer<Float>, elementOffset: Int, count: Int) throws {
        guard elementOffset >= 0, count >= 0, elementOffset + count <= elementCount else {
            throw QQQError.badTensor(path: file.path, tensor: name, reason: "read of \(count) elements at \(elementOffset) is outside its \(elementCount) elements")
        }
        if count == 0 { return }
        let src = raw + elementOffset * dtype.byteSize
        switch dtype {
        case .f32: memcpy(dst, src, count * 4)
        case .f16: VectorOps.f16ToF32(src, dst, count: count)
        case .bf16: VectorOps.bf16ToF32(src, dst, count: count)
        default:
            throw QQQError.badTensor(path: file.path, tensor: name, reason: "dtype \(dtype.rawValue) is not a float type (F32, F16, BF16)")
        }
    }
}
