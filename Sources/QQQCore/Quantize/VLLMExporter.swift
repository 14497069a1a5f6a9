import Foundation

/// `qqq export --format vllm`: rewrites a qqq W4A8 checkpoint into the tensors that QQQ's reference
/// code and vLLM's `qqq` method load (`B` int32 [K/16, 2N], `s_channel` float32 [1, N], `s_group`
/// float16 [K/128, N], Marlin tile order), everything else fp16, so the model serves on GPUs.
public enum VLLMExporter {
    public static func export(modelDirectory: String, outputDirectory: String, force: Bool, log: ((String) -> Void)? = nil) throws {
        let config = try ModelConfig.load(directory: modelDirectory)
        guard let q = config.quantization, q.quantMethod == "qqq" else {
            throw QQQError.invalidInput("\(config.path): not a qqq checkpoint (no quantization_config with quant_method \"qqq\")")
        }
        let group = q.groupSize ?? -1
        let checkpoint = try Checkpoint(directory: modelDirectory)
        let output = try StagedOutputFolder(path: outputDirectory, force: force)
        var writer = try SafetensorsWriter(spillFolder: output.scratch.path)
        let names = checkpoint.names
        let linears = Set(names.filter { $0.hasSuffix(".qweight") }.map { String($0.dropLast(".qweight".count)) })
        for name in names {
            let prefix = name.components(separatedBy: ".").dropLast().joined(separator: ".")
            if linears.contains(prefix) {
                guard name.hasSuffix(".qweight") else {
                    if name.hasSuffix(".bias") { try writer.add(name: name, floats: checkpoint.tensor(name).toFloat32(), shape: try checkpoint.info(name).shape, as: .f16) }
                    continue
                }
                let qw = try checkpoint.tensor(name, shape: try checkpoint.info(name).shape, dtypes: [.u8])
                let n = qw.shape[0], k = qw.shape[1] * 2
                let codes = QQQFormat.unpackNibbles(Array(qw.rawBuffer), rows: n, columns: k)
                let sChannel = try checkpoint.tensor(prefix + ".s_channel", shape: [n], dtypes: [.f32]).toFloat32()
                var sGroup: [UInt16]?
                if group == 128 {
                    let t = try checkpoint.tensor(prefix + ".s_group", shape: [n, (k + 127) / 128], dtypes: [.f16])
                    sGroup = Array(t.rawBuffer.bindMemory(to: UInt16.self))
                }
                let packed = try VLLMPacking.pack(codes: codes, sChannel: sChannel, sGroup: sGroup, rows: n, columns: k, layerName: prefix)
                // Every layer is unpacked again and compared: a layout slip would otherwise only show on a GPU.
                let back = VLLMPacking.unpack(packed)
                let groups = k / 128
                let sameScales = sGroup.map { sg in
                    back.sChannel == sChannel && (0..<(groups * n)).allSatisfy { back.sGroup[$0] == sg[($0 % n) * groups + $0 / n] }
                } ?? (back.sChannel == sChannel.map { $0 / 16 })
                guard back.codes == codes, sameScales else {
                    throw QQQError.numerical("\(prefix): the packed B / scales do not unpack to the checkpoint's integers and scales")
                }
                try writer.add(name: prefix + ".B", dtype: .i32, shape: [k / 16, 2 * n], bytes: packed.b.withUnsafeBytes { Data($0) })
                try writer.add(name: prefix + ".s_channel", dtype: .f32, shape: [1, n], bytes: packed.sChannel.withUnsafeBytes { Data($0) })
                if group == 128 {
                    try writer.add(name: prefix + ".s_group", dtype: .f16, shape: [k / 128, n], bytes: packed.sGroup.withUnsafeBytes { Data($0) })
                }
                log?("\(prefix): B [\(k / 16), \(2 * n)] (unpacked again: same integers and scales)")
            } else {
                let info = try checkpoint.info(name)
                try writer.add(name: name, floats: checkpoint.tensor(name).toFloat32(), shape: info.shape, as: .f16)
            }
        }
        try writer.write(to: output.file("model.safetensors").path)
        guard var object = try JSONSerialization.jsonObject(with: config.rawJSON) as? [String: Any] else {
            throw QQQError.badFile(path: config.path, reason: "not a JSON object")
        }
        object["torch_dtype"] = "float16"
        object["quantization_config"] = ["quant_method": "qqq", "wbits": 4, "group_size": group]
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: output.file("config.json"))
        try output.copyPresent(StagedOutputFolder.tokenizerFiles, from: modelDirectory)
        try output.commit()
    }
}
