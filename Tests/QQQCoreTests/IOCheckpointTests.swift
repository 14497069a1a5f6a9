import Foundation
import Testing
@testable import QQQCore

@Suite("IO checkpoint")
struct IOCheckpointTests {
    private func shard(_ dir: String, _ name: String, _ tensors: [(String, [Float], [Int])]) throws {
        var w = SafetensorsWriter()
        for (n, v, s) in tensors { try w.add(name: n, floats: v, shape: s, as: .f16) }
        try w.write(to: (dir as NSString).appendingPathComponent(name))
    }

    private func index(_ dir: String, _ map: [String: String]) throws {
        let json = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": map])
        try writeFile(dir, Checkpoint.indexFileName, json)
    }

    @Test func shardedWithIndex() throws {
        try withTempDirectory { dir in
            try shard(dir, "model-00001-of-00002.safetensors", [("a", [1, 2, 3, 4, 5, 6], [2, 3]), ("b", [7], [1])])
            try shard(dir, "model-00002-of-00002.safetensors", [("c", [8, 9], [2])])
            try index(dir, ["a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                            "c": "model-00002-of-00002.safetensors"])
            // A stray single file must be ignored when an index exists.
            try shard(dir, "other.safetensors", [("zzz", [0], [1])])
            let ck = try Checkpoint(directory: dir)
            #expect(ck.indexPath != nil)
            #expect(ck.files.count == 2)
            #expect(ck.names == ["a", "b", "c"])
            #expect(ck.contains("c") && !ck.contains("zzz"))
            #expect(try ck.tensor("c").toFloat32() == [8, 9])
            #expect(try ck.tensor("c").path.hasSuffix("model-00002-of-00002.safetensors"))
            #expect(try ck.info("a").shape == [2, 3])
            #expect(try ck.tensor("a", shape: [2, 3]).toFloat32() == [1, 2, 3, 4, 5, 6])
            expectQQQError("model-00001-of-00002.safetensors", "'a'", "expected shape [3, 2], got [2, 3]") {
                _ = try ck.tensor("a", shape: [3, 2])
            }
            expectQQQError("model-00001-of-00002.safetensors", "'a'", "F16", "F32") {
                _ = try ck.tensor("a", shape: [2, 3], dtypes: [.f32])
            }
            expectQQQError("'zzz'", "not found") { _ = try ck.tensor("zzz") }
        }
    }

    @Test func missingShardIsNamed() throws {
        try withTempDirectory { dir in
            try shard(dir, "model-00001-of-00002.safetensors", [("a", [1], [1])])
            try index(dir, ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"])
            expectQQQError(Checkpoint.indexFileName, "model-00002-of-00002.safetensors", "missing") {
                _ = try Checkpoint(directory: dir)
            }
        }
    }

    @Test func indexedTensorAbsentFromShard() throws {
        try withTempDirectory { dir in
            try shard(dir, "s1.safetensors", [("a", [1], [1])])
            try index(dir, ["a": "s1.safetensors", "ghost": "s1.safetensors"])
            expectQQQError(Checkpoint.indexFileName, "'ghost'", "s1.safetensors", "absent") {
                _ = try Checkpoint(directory: dir)
            }
        }
    }

    @Test func badIndexFiles() throws {
        try withTempDirectory { dir in
            try shard(dir, "s1.safetensors", [("a", [1], [1])])
            try writeFile(dir, Checkpoint.indexFileName, Data("{not json".utf8))
            expectQQQError(Checkpoint.indexFileName, "not a JSON object") { _ = try Checkpoint(directory: dir) }
            try writeFile(dir, Checkpoint.indexFileName, Data(#"{"metadata": {}}"#.utf8))
            expectQQQError(Checkpoint.indexFileName, "weight_map") { _ = try Checkpoint(directory: dir) }
            try writeFile(dir, Checkpoint.indexFileName, Data(#"{"weight_map": {"a": "../s1.safetensors"}}"#.utf8))
            expectQQQError(Checkpoint.indexFileName, "outside") { _ = try Checkpoint(directory: dir) }
            try writeFile(dir, Checkpoint.indexFileName, Data(#"{"weight_map": {"a": 3}}"#.utf8))
            expectQQQError(Checkpoint.indexFileName, "'a'") { _ = try Checkpoint(directory: dir) }
        }
    }

    @Test func singleFileAndFallbacks() throws {
        try withTempDirectory { dir in
            expectQQQError(dir, "no model.safetensors") { _ = try Checkpoint(directory: dir) }
            // Without model.safetensors: every *.safetensors, in name order.
            try shard(dir, "b.safetensors", [("y", [2], [1])])
            try shard(dir, "a.safetensors", [("x", [1], [1])])
            let multi = try Checkpoint(directory: dir)
            #expect(multi.names == ["x", "y"])
            #expect(multi.indexPath == nil)
            // A duplicate tensor across unindexed files is ambiguous.
            try shard(dir, "c.safetensors", [("x", [3], [1])])
            expectQQQError("c.safetensors", "'x'", "a.safetensors") { _ = try Checkpoint(directory: dir) }
            // model.safetensors wins over the others.
            try shard(dir, Checkpoint.singleFileName, [("m", [4], [1])])
            let single = try Checkpoint(directory: dir)
            #expect(single.names == ["m"] && single.files.count == 1)
            // A corrupt model.safetensors is reported by name.
            try writeFile(dir, Checkpoint.singleFileName, Data([1, 2, 3]))
            expectQQQError(Checkpoint.singleFileName, "3 bytes") { _ = try Checkpoint(directory: dir) }
        }
        expectQQQError("/nonexistent/qqq-dir", "no such directory") { _ = try Checkpoint(directory: "/nonexistent/qqq-dir") }
    }

    @Test func realModelShapes() throws {
        guard let dir = demoModelDirectory() else { return }
        let ck = try Checkpoint(directory: dir)
        #expect(ck.names.count == 272)   // 30 layers × 9 + embed + norm (tied: no lm_head)
        #expect(!ck.contains("lm_head.weight"))
        let embed = try ck.tensor("model.embed_tokens.weight", shape: [49152, 576])
        #expect(embed.dtype == .f16)
        _ = try ck.tensor("model.layers.0.self_attn.q_proj.weight", shape: [576, 576])
        _ = try ck.tensor("model.layers.0.self_attn.k_proj.weight", shape: [192, 576])
        _ = try ck.tensor("model.layers.29.mlp.down_proj.weight", shape: [576, 1536])
        _ = try ck.tensor("model.norm.weight", shape: [576])
        let norm = try ck.tensor("model.layers.0.input_layernorm.weight").toFloat32()
        #expect(norm.count == 576 && norm.allSatisfy { $0.isFinite })
        var row = [Float](repeating: 0, count: 576)
        try row.withUnsafeMutableBufferPointer { try embed.copyFloat32(into: $0.baseAddress!, elementOffset: 576 * 1000, count: 576) }
        #expect(row.allSatisfy { $0.isFinite } && row.contains { $0 != 0 })

        let config = try ModelConfig.load(directory: dir)
        #expect(config.architecture == .llama)
        #expect(config.hiddenSize == 576 && config.numLayers == 30 && config.numHeads == 9)
        #expect(config.numKVHeads == 3 && config.headDim == 64 && config.intermediateSize == 1536)
        #expect(config.vocabSize == 49152 && config.tieWordEmbeddings)
    }
}
