/// Where a tensor lives in a safetensors file, as validated from the header.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Absolute offset of the first byte in the file (header included).
    public let byteOffset: Int
    public let byteCount: Int

    public init(name: String, dtype: DType, shape: [Int], byteOffset: Int, byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteOffset = byteOffset
        self.byteCount = byteCount
    }

    /// Product of the shape; 1 for a 0-rank (scalar) tensor.
    public var elementCount: Int { shape.reduce(1, *) }
}
