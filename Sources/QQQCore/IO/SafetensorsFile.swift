import Foundation

/// One memory-mapped `.safetensors` file with its header fully validated up front, so a tensor
/// handed out is always inside the file and of consistent dtype, shape and byte length.
///
/// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON (an object mapping
/// tensor name -> {dtype, shape, data_offsets: [begin, end]} plus an optional `__metadata__`
/// string->string map), then the data section, offsets relative to its start.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    /// Tensor names in file (offset) order.
    public let names: [String]
    /// Byte length of the JSON header (without the 8-byte length prefix).
    public let headerLength: Int

    /// Larger headers are refused rather than parsed (same limit as the reference implementation).
    public static let maxHeaderLength = 100_000_000

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let parsed = try SafetensorsHeader.parse(file.bytes, path: path)
        tensors = parsed.tensors
        metadata = parsed.metadata
        names = parsed.names
        headerLength = parsed.headerLength
    }

    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    public func info(_ name: String) throws -> TensorInfo {
        guard let info = tensors[name] else {
            throw QQQError.badTensor(path: path, tensor: name, reason: "not found")
        }
        return info
    }

    public func tensor(_ name: String) throws -> Tensor {
        Tensor(info: try info(name), file: file)
    }
}

/// Parsing and validation of a safetensors header.
enum SafetensorsHeader {
    struct Parsed {
        var tensors: [String: TensorInfo]
        var metadata: [String: String]
        var names: [String]
        var headerLength: Int
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Parsed {
        func fail(_ reason: String) -> QQQError { .badFile(path: path, reason: reason) }
        func failTensor(_ name: String, _ reason: String) -> QQQError {
            .badTensor(path: path, tensor: name, reason: reason)
        }

        let size = bytes.count
        guard size >= 8, let base = bytes.baseAddress else {
            throw fail("not a safetensors file: \(size) bytes, shorter than the 8-byte header length")
        }
        let n64 = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard n64 <= UInt64(SafetensorsFile.maxHeaderLength) else {
            throw fail("not a safetensors file: header length \(n64) exceeds the \(SafetensorsFile.maxHeaderLength)-byte limit")
        }
        let headerLength = Int(n64)
        guard headerLength <= size - 8 else {
            throw fail("truncated or not a safetensors file: header length \(headerLength) exceeds the \(size - 8) bytes after the length field")
        }
        guard headerLength >= 2 else {
            throw fail("not a safetensors file: header of \(headerLength) bytes cannot hold a JSON object")
        }
        let headerBytes = UnsafeRawBufferPointer(start: base + 8, count: headerLength)
        guard headerBytes[0] == UInt8(ascii: "{") else {
            throw fail("not a safetensors file: header does not start with '{'")
        }
        guard String(bytes: headerBytes, encoding: .utf8) != nil else {
            throw fail("safetensors header is not valid UTF-8")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw fail("safetensors header is not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw fail("safetensors header is not a JSON object")
        }

        let dataStart = 8 + headerLength
        let dataSize = size - dataStart
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        var ranges: [(begin: Int, end: Int, name: String)] = []
        tensors.reserveCapacity(object.count)
        ranges.reserveCapacity(object.count)

        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw fail("__metadata__ is \(JSONValue.describe(value)), expected an object of strings")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw fail("__metadata__ key '\(k)' is \(JSONValue.describe(v)), expected a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw failTensor(name, "header entry is \(JSONValue.describe(value)), expected an object")
            }
            guard let dtypeValue = entry["dtype"] else { throw failTensor(name, "missing 'dtype'") }
            guard let dtypeName = dtypeValue as? String else {
                throw failTensor(name, "dtype is \(JSONValue.describe(dtypeValue)), expected a string")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw failTensor(name, "unknown dtype '\(dtypeName)' (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let shapeValue = entry["shape"] else { throw failTensor(name, "missing 'shape'") }
            guard let shapeArray = shapeValue as? [Any] else {
                throw failTensor(name, "shape is \(JSONValue.describe(shapeValue)), expected an array of integers")
            }
            var shape: [Int] = []
            shape.reserveCapacity(shapeArray.count)
            var elements = 1
            var overflow = false
            for d in shapeArray {
                guard let v = JSONValue.strictInt(d), v >= 0 else {
                    throw failTensor(name, "shape dimension \(JSONValue.describe(d)) is not a non-negative integer")
                }
                shape.append(v)
                let (p, o) = elements.multipliedReportingOverflow(by: v)
                elements = p
                overflow = overflow || o
            }
            guard let offsetsValue = entry["data_offsets"] else { throw failTensor(name, "missing 'data_offsets'") }
            guard let offsets = offsetsValue as? [Any], offsets.count == 2,
                  let begin = JSONValue.strictInt(offsets[0]), let end = JSONValue.strictInt(offsets[1]),
                  begin >= 0, end >= begin
            else {
                throw failTensor(name, "data_offsets must be two integers [begin, end] with 0 <= begin <= end")
            }
            let (expected, o2) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, !o2 else {
                throw failTensor(name, "shape \(shape) is too large")
            }
            guard end - begin == expected else {
                throw failTensor(name, "\(end - begin) bytes in data_offsets [\(begin), \(end)] but dtype \(dtype.rawValue) × shape \(shape) needs \(expected)")
            }
            guard end <= dataSize else {
                throw failTensor(name, "data_offsets [\(begin), \(end)] run past the end of the \(dataSize)-byte data section (file truncated or corrupt)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape,
                                       byteOffset: dataStart + begin, byteCount: expected)
            ranges.append((begin, end, name))
        }

        // The data section must be tiled exactly: no overlap (two tensors sharing bytes), no
        // hole, nothing after the last tensor. The reference loader rejects all three.
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        var previous: String?
        for r in ranges {
            if r.begin < cursor, let previous {
                throw failTensor(r.name, "data_offsets [\(r.begin), \(r.end)] overlap tensor '\(previous)' (which ends at \(cursor))")
            }
            if r.begin > cursor {
                throw failTensor(r.name, "\(r.begin - cursor)-byte gap before data_offsets [\(r.begin), \(r.end)]; tensors must be contiguous")
            }
            cursor = r.end
            previous = r.name
        }
        guard cursor == dataSize else {
            throw fail("\(dataSize - cursor) bytes after the last tensor (data section is \(dataSize) bytes, tensors cover \(cursor))")
        }
        return Parsed(tensors: tensors, metadata: metadata, names: ranges.map(\.name), headerLength: headerLength)
    }
}
