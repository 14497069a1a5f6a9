import Foundation

/// A memory-mapped safetensors file: an 8-byte little-endian header length N, N bytes of JSON
/// (`{name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {str: str}}`), then the data.
/// Everything is validated up front so later reads cannot go out of bounds.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    /// The reference implementation's limit on the header size.
    static let maxHeaderBytes = 100 * 1024 * 1024

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        func fail(_ reason: String) -> QQQError { .badFile(path: path, reason: reason) }
        guard bytes.count >= 8 else { throw fail("not a safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw fail("not a safetensors file: header length \(headerLength) exceeds 100 MB")
        }
        let dataStart = 8 + Int(headerLength)
        guard dataStart <= bytes.count else {
            throw fail("truncated: header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
        }
        let headerData = Data(bytes[8..<dataStart])
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw fail("corrupt header: not a JSON object")
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        let dataLength = bytes.count - dataStart
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else { throw fail("corrupt header: __metadata__ is not an object") }
                for (k, v) in dict {
                    guard let s = v as? String else { throw fail("corrupt header: __metadata__ value '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            func bad(_ reason: String) -> QQQError { .badTensor(path: path, tensor: name, reason: reason) }
            guard let entry = value as? [String: Any] else { throw bad("header entry is not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw bad("header entry has no dtype") }
            guard let dtype = DType(rawValue: dtypeName) else { throw bad("unknown dtype '\(dtypeName)'") }
            guard let shapeAny = entry["shape"] as? [Any] else { throw bad("header entry has no shape") }
            var shape: [Int] = []
            for dim in shapeAny {
                guard let n = dim as? NSNumber, n.doubleValue >= 0, n.doubleValue.rounded() == n.doubleValue, n.doubleValue < 9e15 else {
                    throw bad("shape \(shapeAny) is not a list of non-negative integers")
                }
                shape.append(n.intValue)
            }
            guard let offsets = entry["data_offsets"] as? [NSNumber], offsets.count == 2 else {
                throw bad("header entry has no data_offsets [begin, end]")
            }
            let begin = offsets[0].intValue, end = offsets[1].intValue
            guard begin >= 0, end >= begin else { throw bad("data_offsets [\(begin), \(end)] are invalid") }
            guard end <= dataLength else {
                throw bad("data_offsets [\(begin), \(end)] run past the end of the data (\(dataLength) bytes): file truncated?")
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, elements * dtype.byteSize == end - begin else {
                throw bad("\(dtype.rawValue) × shape \(shape) needs \(overflow ? -1 : elements * dtype.byteSize) bytes but data_offsets span \(end - begin)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, byteOffset: dataStart + begin, byteCount: end - begin)
        }
        // Tensors must not overlap (holes are tolerated: some writers align their tensors).
        let sorted = tensors.values.filter { $0.byteCount > 0 }.sorted { $0.byteOffset < $1.byteOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.byteOffset + a.byteCount > b.byteOffset {
            throw QQQError.badTensor(path: path, tensor: b.name, reason: "data overlaps tensor '\(a.name)'")
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Tensor names in file order.
    public var names: [String] { tensors.values.sorted { ($0.byteOffset, $0.name) < ($1.byteOffset, $1.name) }.map(\.name) }

    public func tensor(_ name: String) throws -> Tensor {
        guard let info = tensors[name] else { throw QQQError.badTensor(path: path, tensor: name, reason: "missing") }
        return Tensor(info: info, file: file)
    }
}
