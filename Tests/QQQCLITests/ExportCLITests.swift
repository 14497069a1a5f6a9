import Foundation
import Testing
@testable import QQQCore

/// `qqq export --format vllm`: the exported B / s_channel / s_group unpack to exactly the integers and
/// scales of the qqq checkpoint; a rotated checkpoint keeps its own (untied) lm_head through the export.
@Suite("qqq export", .serialized)
struct ExportCLITests {
    @Test(arguments: [("128", false), ("-1", false), ("128", true)])
    func roundTripsToTheSameIntegers(group: String, rotate: Bool) throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"), hidden: 128, inter: 256)
        let calib = try QuantizeCLITests.calibration(dir)
        let q = dir.appendingPathComponent("q"), v = dir.appendingPathComponent("v")
        let r = try QuantizeCLITests.quantize(model, q, calib: calib, extra: ["--group-size", group, "--no-smooth"] + (rotate ? ["--rotate"] : []))
        #expect(r.status == 0, "\(r.stderr)")
        let e = try CLIRunner.run(["export", q.path, "-o", v.path, "--format", "vllm"])
        #expect(e.status == 0, "\(e.stderr)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: v.appendingPathComponent("config.json"))) as! [String: Any]
        #expect((config["quantization_config"] as? [String: Any])?["group_size"] as? Int == Int(group))
        let src = try Checkpoint(directory: q.path), dst = try Checkpoint(directory: v.path)
        #expect(dst.contains("lm_head.weight") == rotate)
        #expect((config["tie_word_embeddings"] as? Bool) == !rotate)
        if rotate {
            #expect(try dst.tensor("lm_head.weight").toFloat32() == src.tensor("lm_head.weight").toFloat32())
        }
        var checked = 0
        for name in src.names where name.hasSuffix(".qweight") {
            let prefix = String(name.dropLast(".qweight".count))
            let qw = try src.tensor(name)
            let n = qw.shape[0], k = qw.shape[1] * 2
            let codes = QQQFormat.unpackNibbles(Array(qw.rawBuffer), rows: n, columns: k)
            let b = try dst.tensor(prefix + ".B", shape: [k / 16, 2 * n], dtypes: [.i32])
            let sc = try dst.tensor(prefix + ".s_channel", shape: [1, n], dtypes: [.f32])
            let sg = group == "128" ? try dst.tensor(prefix + ".s_group", shape: [k / 128, n], dtypes: [.f16]) : nil
            #expect(!dst.contains(prefix + ".qweight"))
            let t = VLLMQQQTensors(rows: n, columns: k, groupSize: Int(group)!, b: Array(b.rawBuffer.bindMemory(to: Int32.self)),
                                   sChannel: Array(sc.rawBuffer.bindMemory(to: Float.self)),
                                   sGroup: sg.map { Array($0.rawBuffer.bindMemory(to: UInt16.self)) } ?? [])
            let back = VLLMPacking.unpack(t)
            #expect(back.codes == codes, "\(prefix): codes differ after export")
            let ours = try src.tensor(prefix + ".s_channel").toFloat32()
            #expect(back.sChannel == (group == "128" ? ours : ours.map { $0 / 16 }))
            checked += 1
        }
        #expect(checked == 14)
    }

    @Test func shapesTheFormatCannotHoldAreNamed() throws {
        let dir = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TinyModelFixture.write(to: dir.appendingPathComponent("tiny"))  // hidden 64: K % 128 != 0
        let q = dir.appendingPathComponent("q")
        #expect(try QuantizeCLITests.quantize(model, q, calib: try QuantizeCLITests.calibration(dir), extra: ["--no-smooth"]).status == 0)
        let e = try CLIRunner.run(["export", q.path, "-o", dir.appendingPathComponent("v").path])
        #expect(e.status == 1)
        #expect(e.stderr.contains("model.layers.0.") && e.stderr.contains("% 128"), "\(e.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("v").path))
    }
}
