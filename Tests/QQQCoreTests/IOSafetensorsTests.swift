import Foundation
import Testing
@testable import QQQCore

@Suite("IO safetensors")
struct IOSafetensorsTests {
    /// Deterministic bytes for a tensor of `count` bytes.
    private func pattern(_ count: Int, seed: UInt8) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }

    @Test func roundTripAllDTypes() throws {
        try withTempDirectory { dir in
            var w = SafetensorsWriter()
            var expected: [String: (DType, [Int], Data)] = [:]
            for (i, dtype) in DType.allCases.enumerated() {
                let shape = [3, i + 1]
                let bytes = pattern(3 * (i + 1) * dtype.byteSize, seed: UInt8(i))
                try w.add(name: "t.\(dtype.rawValue)", dtype: dtype, shape: shape, bytes: bytes)
                expected["t.\(dtype.rawValue)"] = (dtype, shape, bytes)
            }
            let path = (dir as NSString).appendingPathComponent("all.safetensors")
            try w.write(to: path, metadata: ["format": "pt", "note": "quote \" and \\ and \n"])

            let f = try SafetensorsFile(path: path)
            #expect(f.tensors.count == DType.allCases.count)
            #expect(f.metadata == ["format": "pt", "note": "quote \" and \\ and \n"])
            // names follow offsets, which follow insertion order
            #expect(f.names == DType.allCases.map { "t.\($0.rawValue)" })
            for (name, (dtype, shape, bytes)) in expected {
                let t = try f.tensor(name)
                #expect(t.dtype == dtype)
                #expect(t.shape == shape)
                #expect(t.info.byteCount == bytes.count)
                #expect(Data(t.rawBuffer) == bytes, "\(name)")
            }
        }
    }

    /// A writer that spills tensor data to a scratch file writes the same bytes as one that keeps it in
    /// memory (tensors larger than its 8 MiB copy chunk included), and leaves no scratch file behind.
    @Test func spilledWriterWritesTheSameFile() throws {
        try withTempDirectory { dir in
            var inMemory = SafetensorsWriter()
            var spilled = try SafetensorsWriter(spillFolder: dir)
            for (i, count) in [5, 0, (9 << 20) + 3, 64].enumerated() {
                let bytes = pattern(count, seed: UInt8(i))
                try inMemory.add(name: "t\(i)", dtype: .u8, shape: [count], bytes: bytes)
                try spilled.add(name: "t\(i)", dtype: .u8, shape: [count], bytes: bytes)
            }
            #expect(spilled.totalBytes == inMemory.totalBytes)
            let a = (dir as NSString).appendingPathComponent("a.safetensors"), b = (dir as NSString).appendingPathComponent("b.safetensors")
            try inMemory.write(to: a)
            try spilled.write(to: b)
            #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix(".tensors.spill") })
            spilled = SafetensorsWriter()
            #expect(try !FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix(".tensors.spill") })
        }
    }

    @Test func floatsRoundTripAndConvert() throws {
        try withTempDirectory { dir in
            // Values exact in F16 and BF16 so all three read back identically.
            let values: [Float] = [0, -0.0, 1, -2.5, 0.375, 1024, -255, 0.0078125]
            var w = SafetensorsWriter()
            try w.add(name: "a", floats: values, shape: [2, 4], as: .f32)
            try w.add(name: "b", floats: values, shape: [8], as: .f16)
            try w.add(name: "c", floats: values, shape: [4, 2], as: .bf16)
            try w.add(name: "ints", dtype: .i32, shape: [2], bytes: Data(count: 8))
            let path = (dir as NSString).appendingPathComponent("f.safetensors")
            try w.write(to: path)
            let f = try SafetensorsFile(path: path)
            #expect(f.metadata == ["format": "pt"])
            for name in ["a", "b", "c"] {
                let t = try f.tensor(name)
                #expect(try t.toFloat32() == values, "\(name)")
                var row = [Float](repeating: .nan, count: 3)
                try row.withUnsafeMutableBufferPointer { try t.copyFloat32(into: $0.baseAddress!, elementOffset: 4, count: 3) }
                #expect(row == Array(values[4..<7]))
                expectQQQError("out of range", name) {
                    try row.withUnsafeMutableBufferPointer { try t.copyFloat32(into: $0.baseAddress!, elementOffset: 6, count: 3) }
                }
            }
            expectQQQError("f.safetensors", "'ints'", "I32") { _ = try f.tensor("ints").toFloat32() }
            expectQQQError("'nope'", "not found") { _ = try f.tensor("nope") }
        }
    }

    @Test func emptyAndScalarTensors() throws {
        try withTempDirectory { dir in
            var w = SafetensorsWriter()
            try w.add(name: "empty", floats: [], shape: [0, 5], as: .f16)
            try w.add(name: "scalar", floats: [42], shape: [], as: .f32)
            try w.add(name: "empty2", dtype: .u8, shape: [0], bytes: Data())
            let path = (dir as NSString).appendingPathComponent("e.safetensors")
            try w.write(to: path, metadata: nil)
            let f = try SafetensorsFile(path: path)
            #expect(f.metadata.isEmpty)
            let e = try f.tensor("empty")
            #expect(e.shape == [0, 5] && e.elementCount == 0 && e.info.byteCount == 0)
            #expect(try e.toFloat32() == [])
            let s = try f.tensor("scalar")
            #expect(s.shape == [] && s.elementCount == 1)
            #expect(try s.toFloat32() == [42])
            #expect(try f.tensor("empty2").rawBuffer.count == 0)
        }
    }

    @Test func emptyFileSetAndHeaderPadding() throws {
        try withTempDirectory { dir in
            // No tensors at all is a valid file.
            let empty = (dir as NSString).appendingPathComponent("none.safetensors")
            try SafetensorsWriter().write(to: empty, metadata: nil)
            #expect(try SafetensorsFile(path: empty).tensors.isEmpty)

            for nameLength in 1...9 {
                var w = SafetensorsWriter()
                try w.add(name: String(repeating: "x", count: nameLength), dtype: .u8, shape: [3], bytes: Data([1, 2, 3]))
                try w.add(name: "y", dtype: .f32, shape: [1], bytes: Data(count: 4))
                let path = (dir as NSString).appendingPathComponent("p\(nameLength).safetensors")
                try w.write(to: path)
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                let n = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                #expect(n % 8 == 0)
                #expect(Int(n) + 8 + 7 == bytes.count)
                let f = try SafetensorsFile(path: path)
                #expect(f.headerLength == Int(n))
                #expect(try f.info(String(repeating: "x", count: nameLength)).byteOffset % 8 == 0)
            }
        }
    }

    @Test func atomicWriteLeavesNoTempFile() throws {
        try withTempDirectory { dir in
            let path = (dir as NSString).appendingPathComponent("m.safetensors")
            var w = SafetensorsWriter()
            try w.add(name: "a", floats: [1, 2], shape: [2], as: .f32)
            try w.write(to: path)
            // Overwrite in place with different content.
            var w2 = SafetensorsWriter()
            try w2.add(name: "b", floats: [3], shape: [1], as: .bf16)
            try w2.write(to: path)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m.safetensors"])
            #expect(try SafetensorsFile(path: path).names == ["b"])
            // A folder that does not exist: error, nothing written anywhere.
            let bad = (dir as NSString).appendingPathComponent("no/such/m.safetensors")
            expectQQQError("no/such/m.safetensors", "temp file") { try w.write(to: bad) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m.safetensors"])
        }
    }

    @Test func writerRejectsBadInput() throws {
        var w = SafetensorsWriter()
        expectQQQError("'a'", "5 bytes", "needs 8") { try w.add(name: "a", dtype: .f32, shape: [2], bytes: Data(count: 5)) }
        try w.add(name: "a", dtype: .f32, shape: [2], bytes: Data(count: 8))
        expectQQQError("'a'", "twice") { try w.add(name: "a", dtype: .f32, shape: [2], bytes: Data(count: 8)) }
        expectQQQError("'b'", "negative") { try w.add(name: "b", dtype: .u8, shape: [-1], bytes: Data()) }
        expectQQQError("'c'", "3 values") { try w.add(name: "c", floats: [1, 2, 3], shape: [2, 2], as: .f32) }
        expectQQQError("'d'", "I8") { try w.add(name: "d", floats: [1], shape: [1], as: .i8) }
        expectQQQError("__metadata__") { try w.add(name: "__metadata__", dtype: .u8, shape: [0], bytes: Data()) }
        #expect(w.count == 1 && w.totalBytes == 8)
    }

    // MARK: corrupt inputs

    private func open(_ dir: String, _ data: Data, name: String = "bad.safetensors") throws -> SafetensorsFile {
        try SafetensorsFile(path: try writeFile(dir, name, data))
    }

    @Test func rejectsShortAndOversizedHeaders() throws {
        try withTempDirectory { dir in
            expectQQQError("bad.safetensors", "0 bytes") { _ = try open(dir, Data()) }
            expectQQQError("bad.safetensors", "5 bytes") { _ = try open(dir, Data([1, 2, 3, 4, 5])) }
            expectQQQError("bad.safetensors", "header length 1000 exceeds") {
                _ = try open(dir, rawSafetensors(header: "{}      ", declaredLength: 1000))
            }
            expectQQQError("bad.safetensors", "limit") {
                _ = try open(dir, rawSafetensors(header: "{}      ", declaredLength: 200_000_000))
            }
            expectQQQError("bad.safetensors", "limit") {
                _ = try open(dir, rawSafetensors(header: "{}      ", declaredLength: UInt64.max))
            }
            expectQQQError("bad.safetensors") { _ = try open(dir, rawSafetensors(header: "")) }
        }
    }

    @Test func rejectsGarbageHeaders() throws {
        try withTempDirectory { dir in
            expectQQQError("bad.safetensors", "start with '{'") { _ = try open(dir, rawSafetensors(header: "garbage!")) }
            expectQQQError("bad.safetensors", "start with '{'") { _ = try open(dir, rawSafetensors(header: "[1, 2]  ")) }
            expectQQQError("bad.safetensors", "not valid JSON") { _ = try open(dir, rawSafetensors(header: "{\"a\": [1,}")) }
            expectQQQError("bad.safetensors", "UTF-8") {
                _ = try open(dir, rawSafetensors(headerBytes: Array("{\"".utf8) + [0xFF, 0xFE] + Array("\":1}".utf8)))
            }
            expectQQQError("'w'", "expected an object") { _ = try open(dir, rawSafetensors(header: #"{"w": 3}"#)) }
            expectQQQError("__metadata__", "'k'", "expected a string") {
                _ = try open(dir, rawSafetensors(header: #"{"__metadata__": {"k": 1}}"#))
            }
        }
    }

    @Test func rejectsBadEntries() throws {
        try withTempDirectory { dir in
            let data = [UInt8](repeating: 0, count: 8)
            func entry(_ body: String) -> Data { rawSafetensors(header: "{\"w\": {\(body)}}", data: data) }
            expectQQQError("'w'", "missing 'dtype'") { _ = try open(dir, entry(#""shape": [2], "data_offsets": [0, 8]"#)) }
            expectQQQError("'w'", "missing 'shape'") { _ = try open(dir, entry(#""dtype": "F32", "data_offsets": [0, 8]"#)) }
            expectQQQError("'w'", "missing 'data_offsets'") { _ = try open(dir, entry(#""dtype": "F32", "shape": [2]"#)) }
            expectQQQError("bad.safetensors", "'w'", "unknown dtype 'X99'") {
                _ = try open(dir, entry(#""dtype": "X99", "shape": [2], "data_offsets": [0, 8]"#))
            }
            expectQQQError("'w'", "unknown dtype 'f32'") { _ = try open(dir, entry(#""dtype": "f32", "shape": [2], "data_offsets": [0, 8]"#)) }
            expectQQQError("'w'", "-2") { _ = try open(dir, entry(#""dtype": "F32", "shape": [-2], "data_offsets": [0, 8]"#)) }
            expectQQQError("'w'", "2.5") { _ = try open(dir, entry(#""dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]"#)) }
            expectQQQError("'w'", "true") { _ = try open(dir, entry(#""dtype": "F32", "shape": [true], "data_offsets": [0, 8]"#)) }
            expectQQQError("'w'", "\"2\"") { _ = try open(dir, entry(#""dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]"#)) }
            expectQQQError("'w'", "data_offsets") { _ = try open(dir, entry(#""dtype": "F32", "shape": [2], "data_offsets": [8, 0]"#)) }
            expectQQQError("'w'", "data_offsets") { _ = try open(dir, entry(#""dtype": "F32", "shape": [2], "data_offsets": [0]"#)) }
            // dtype × shape disagrees with the byte range
            expectQQQError("bad.safetensors", "'w'", "8 bytes", "needs 12") {
                _ = try open(dir, entry(#""dtype": "F32", "shape": [3], "data_offsets": [0, 8]"#))
            }
            expectQQQError("'w'", "too large") {
                _ = try open(dir, entry(#""dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]"#))
            }
        }
    }

    @Test func rejectsOffsetsOutsideDataAndTruncation() throws {
        try withTempDirectory { dir in
            expectQQQError("bad.safetensors", "'w'", "past the end", "8-byte data section") {
                _ = try open(dir, rawSafetensors(header: #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#,
                                                 data: [UInt8](repeating: 0, count: 8)))
            }
            // A valid file with its last bytes cut off.
            var w = SafetensorsWriter()
            try w.add(name: "a", floats: [1, 2, 3, 4], shape: [4], as: .f32)
            try w.add(name: "b", floats: [5, 6], shape: [2], as: .f16)
            let path = (dir as NSString).appendingPathComponent("t.safetensors")
            try w.write(to: path)
            let full = try Data(contentsOf: URL(fileURLWithPath: path))
            try full.prefix(full.count - 1).write(to: URL(fileURLWithPath: path))
            expectQQQError("t.safetensors", "'b'", "truncated") { _ = try SafetensorsFile(path: path) }
            // Cut inside the header.
            try full.prefix(20).write(to: URL(fileURLWithPath: path))
            expectQQQError("t.safetensors", "exceeds") { _ = try SafetensorsFile(path: path) }
        }
    }

    @Test func rejectsOverlapGapsAndTrailingBytes() throws {
        try withTempDirectory { dir in
            let data12 = [UInt8](repeating: 0, count: 12)
            expectQQQError("bad.safetensors", "overlap") {
                _ = try open(dir, rawSafetensors(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#, data: data12))
            }
            // Two tensors on the very same bytes.
            expectQQQError("overlap") {
                _ = try open(dir, rawSafetensors(header: #"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}, "b": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}"#, data: data12))
            }
            expectQQQError("'b'", "gap") {
                _ = try open(dir, rawSafetensors(header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#, data: data12))
            }
            expectQQQError("bad.safetensors", "4 bytes after the last tensor") {
                _ = try open(dir, rawSafetensors(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: data12))
            }
            // The same header with exactly enough data is fine (and offsets are relative to the data section).
            let ok = try open(dir, rawSafetensors(header: #"{"b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: Array(0..<12)))
            #expect(ok.names == ["a", "b"])
            #expect(Array(try ok.tensor("b").rawBuffer) == [8, 9, 10, 11])
        }
    }

    @Test func mappedFileBasics() throws {
        try withTempDirectory { dir in
            let empty = try writeFile(dir, "empty", Data())
            #expect(try MappedFile(path: empty).bytes.count == 0)
            let some = try writeFile(dir, "some", Data([7, 8, 9]))
            let m = try MappedFile(path: some)
            #expect(Array(m.bytes) == [7, 8, 9])
            m.willNeed(0..<3)
            expectQQQError("nothere", "cannot open") { _ = try MappedFile(path: (dir as NSString).appendingPathComponent("nothere")) }
            expectQQQError("not a regular file") { _ = try MappedFile(path: dir) }
        }
    }
}
