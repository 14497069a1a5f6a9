import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a `.safetensors` file: tensors in insertion order, header padded with spaces so the
/// data section starts 8-byte aligned, written to a temp file beside the target and renamed
/// into place so a reader never sees a half-written file.
///
/// With a spill folder, tensor data goes to a scratch file there as it is added instead of staying in
/// memory (a quantizer adds a 7B model's 3.5 GB of packed weights one layer at a time).
public struct SafetensorsWriter {
    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var bytes: Data?       // in memory, or nil when spilled
        var spillOffset: Int
        var byteCount: Int
    }

    /// The scratch file; removed when the last writer copy referring to it goes away.
    private final class Spill {
        let path: String
        let fd: Int32
        var size = 0
        init(folder: String) throws {
            path = (folder as NSString).appendingPathComponent(".tensors.spill-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw QQQError.badFile(path: folder, reason: "cannot create a scratch file: \(String(cString: strerror(errno)))")
            }
        }
        deinit { close(fd); unlink(path) }
    }

    private var entries: [Entry] = []
    private var names: Set<String> = []
    private var spill: Spill?

    public init() {}

    /// Tensor data is kept in a scratch file in `spillFolder` (which must exist) until `write`.
    public init(spillFolder: String) throws {
        spill = try Spill(folder: spillFolder)
    }

    /// Number of tensors added so far.
    public var count: Int { entries.count }
    /// Bytes of tensor data added so far (header excluded).
    public var totalBytes: Int { entries.reduce(0) { $0 + $1.byteCount } }

    public func contains(_ name: String) -> Bool { names.contains(name) }

    /// Adds raw little-endian bytes; `bytes.count` must equal dtype size × element count.
    public mutating func add(name: String, dtype: DType, shape: [Int], bytes: Data) throws {
        let elements = try Self.checkedElementCount(name: name, shape: shape)
        guard !name.isEmpty, name != "__metadata__" else {
            throw QQQError.invalidInput("safetensors writer: '\(name)' is not a valid tensor name")
        }
        guard !names.contains(name) else {
            throw QQQError.invalidInput("safetensors writer: tensor '\(name)' added twice")
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == bytes.count else {
            throw QQQError.invalidInput("safetensors writer: tensor '\(name)': \(bytes.count) bytes given but dtype \(dtype.rawValue) × shape \(shape) needs \(overflow ? "too many" : String(expected))")
        }
        if let spill {
            let offset = spill.size
            try bytes.withUnsafeBytes { b in
                try Self.writeAll(fd: spill.fd, b.baseAddress, b.count, path: spill.path, at: offset)
            }
            spill.size += bytes.count
            entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: nil, spillOffset: offset, byteCount: bytes.count))
        } else {
            entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes, spillOffset: 0, byteCount: bytes.count))
        }
        names.insert(name)
    }

    /// pwrite (at an offset) or write (offset nil) of all `count` bytes.
    private static func writeAll(fd: Int32, _ p: UnsafeRawPointer?, _ count: Int, path: String, at offset: Int? = nil) throws {
        guard var p, count > 0 else { return }
        var left = count, position = offset ?? 0
        while left > 0 {
            let n = offset == nil ? Glibc_write(fd, p, min(left, 1 << 30)) : pwrite(fd, p, min(left, 1 << 30), off_t(position))
            if n < 0 {
                if errno == EINTR { continue }
                throw QQQError.badFile(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
            }
            p += n
            left -= n
            position += n
        }
    }

    /// Adds Float values stored as F32, F16 or BF16 (rounded to nearest, ties to even).
    public mutating func add(name: String, floats: [Float], shape: [Int], as dtype: DType) throws {
        let elements = try Self.checkedElementCount(name: name, shape: shape)
        guard elements == floats.count else {
            throw QQQError.invalidInput("safetensors writer: tensor '\(name)': \(floats.count) values given for shape \(shape) (\(elements) elements)")
        }
        let bytes: Data
        switch dtype {
        case .f32: bytes = HalfConversion.f32Data(floats)
        case .f16: bytes = HalfConversion.f16Data(floats)
        case .bf16: bytes = HalfConversion.bf16Data(floats)
        default:
            throw QQQError.invalidInput("safetensors writer: tensor '\(name)': cannot store floats as \(dtype.rawValue) (use F32, F16 or BF16)")
        }
        try add(name: name, dtype: dtype, shape: shape, bytes: bytes)
    }

    private static func checkedElementCount(name: String, shape: [Int]) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else {
                throw QQQError.invalidInput("safetensors writer: tensor '\(name)': negative dimension in shape \(shape)")
            }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else {
                throw QQQError.invalidInput("safetensors writer: tensor '\(name)': shape \(shape) is too large")
            }
            n = p
        }
        return n
    }

    /// The header bytes (JSON padded with spaces to a multiple of 8), without the length prefix.
    func headerBytes(metadata: [String: String]?) -> Data {
        var json = "{"
        var first = true
        if let metadata {
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { "\(JSONValue.quote($0.key)):\(JSONValue.quote($0.value))" }
                .joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for e in entries {
            if !first { json += "," }
            first = false
            let end = offset + e.byteCount
            json += "\(JSONValue.quote(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var data = Data(json.utf8)
        let padded = (data.count + 7) / 8 * 8
        data.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: padded - data.count))
        return data
    }

    /// Writes the file atomically: temp file in the same folder, fsync, rename over `path`.
    public func write(to path: String, metadata: [String: String]? = ["format": "pt"]) throws {
        let header = headerBytes(metadata: metadata)
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let tmp = (folder as NSString).appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw QQQError.badFile(path: path, reason: "cannot create temp file in \(folder): \(String(cString: strerror(errno)))")
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(tmp) }
        }
        func writeAll(_ p: UnsafeRawPointer?, _ count: Int) throws { try Self.writeAll(fd: fd, p, count, path: path) }
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try writeAll($0.baseAddress, 8) }
        try header.withUnsafeBytes { try writeAll($0.baseAddress, $0.count) }
        var chunk = [UInt8](repeating: 0, count: spill == nil ? 0 : 8 << 20)
        for e in entries {
            if let bytes = e.bytes {
                try bytes.withUnsafeBytes { try writeAll($0.baseAddress, $0.count) }
                continue
            }
            guard let spill else { continue }
            var done = 0
            while done < e.byteCount {
                let want = min(chunk.count, e.byteCount - done)
                let got = chunk.withUnsafeMutableBytes { pread(spill.fd, $0.baseAddress, want, off_t(e.spillOffset + done)) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    throw QQQError.badFile(path: spill.path, reason: "scratch file read failed: \(got < 0 ? String(cString: strerror(errno)) : "short file")")
                }
                try chunk.withUnsafeBytes { try writeAll($0.baseAddress, got) }
                done += got
            }
        }
        guard fsync(fd) == 0 else {
            throw QQQError.badFile(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))")
        }
        closed = true
        guard close(fd) == 0 else {
            throw QQQError.badFile(path: path, reason: "close failed: \(String(cString: strerror(errno)))")
        }
        guard rename(tmp, path) == 0 else {
            throw QQQError.badFile(path: path, reason: "cannot rename temp file into place: \(String(cString: strerror(errno)))")
        }
        renamed = true
    }
}

/// `write(2)`; named apart so it does not collide with the `write(to:)` method above.
@inline(__always)
private func Glibc_write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
