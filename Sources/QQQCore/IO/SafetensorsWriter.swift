import Foundation

/// Builds a safetensors file: tensors in insertion order, the JSON header padded with spaces to a
/// multiple of 8 bytes (so the data section is aligned), written to a temporary file in the target
/// folder and renamed into place (a failed or interrupted write leaves no partial file).
public struct SafetensorsWriter {
    private var entries: [(name: String, dtype: DType, shape: [Int], bytes: Data)] = []
    private var seen: Set<String> = []

    public init() {}

    public var totalBytes: Int { entries.reduce(0) { $0 + $1.bytes.count } }

    public mutating func add(name: String, dtype: DType, shape: [Int], bytes: Data) throws {
        guard !seen.contains(name) else { throw QQQError.invalidInput("safetensors writer: tensor '\(name)' added twice") }
        let expected = shape.reduce(1, *) * dtype.byteSize
        guard shape.allSatisfy({ $0 >= 0 }), expected == bytes.count else {
            throw QQQError.invalidInput("safetensors writer: tensor '\(name)' \(dtype.rawValue) \(shape) needs \(expected) bytes, got \(bytes.count)")
        }
        seen.insert(name)
        entries.append((name, dtype, shape, bytes))
    }

    /// Adds fp32 values stored as F32, F16 or BF16 (round to nearest even).
    public mutating func add(name: String, floats: [Float], shape: [Int], as dtype: DType) throws {
        let data: Data
        switch dtype {
        case .f32: data = floats.withUnsafeBufferPointer { Data(buffer: $0) }
        case .f16: data = HalfConversion.f16Data(floats)
        case .bf16: data = HalfConversion.bf16Data(floats)
        default: throw QQQError.invalidInput("safetensors writer: cannot store floats as \(dtype.rawValue)")
        }
        try add(name: name, dtype: dtype, shape: shape, bytes: data)
    }

    /// The header JSON (keys sorted for byte-identical output), padded to a multiple of 8.
    func header(metadata: [String: String]?) throws -> Data {
        var object: [String: Any] = [:]
        var offset = 0
        for e in entries {
            object[e.name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]]
            offset += e.bytes.count
        }
        if let metadata { object["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let padded = (json.count + 7) / 8 * 8
        json.append(contentsOf: [UInt8](repeating: 0x20, count: padded - json.count))
        return json
    }

    public func write(to path: String, metadata: [String: String]? = ["format": "pt"]) throws {
        let json = try header(metadata: metadata)
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw QQQError.badFile(path: path, reason: "cannot create (folder missing or not writable)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            defer { try? handle.close() }
            var length = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            for e in entries { try handle.write(contentsOf: e.bytes) }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw QQQError.badFile(path: path, reason: "write failed: \(error.localizedDescription)")
        }
        guard rename(temp.path, path) == 0 else {
            try? FileManager.default.removeItem(at: temp)
            throw QQQError.badFile(path: path, reason: "cannot move the finished file into place")
        }
    }
}

/// fp32 <-> fp16/bf16 conversions with round-to-nearest-even.
public enum HalfConversion {
    public static func f16Data(_ values: [Float]) -> Data {
        var out = Data(count: values.count * 2)
        out.withUnsafeMutableBytes { raw in
            let p = raw.bindMemory(to: UInt16.self)
            for (i, v) in values.enumerated() { p[i] = Float16(v).bitPattern.littleEndian }
        }
        return out
    }

    public static func bf16Data(_ values: [Float]) -> Data {
        var out = Data(count: values.count * 2)
        out.withUnsafeMutableBytes { raw in
            let p = raw.bindMemory(to: UInt16.self)
            for (i, v) in values.enumerated() { p[i] = bf16Bits(v).littleEndian }
        }
        return out
    }

    /// bf16 bits of v, round to nearest even; NaN stays a (quiet) NaN.
    public static func bf16Bits(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    public static func bf16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
}
