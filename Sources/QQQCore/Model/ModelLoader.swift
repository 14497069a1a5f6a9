import Foundation

/// A model folder opened for inference: config, mapped checkpoint, tokenizer and the model.
public struct LoadedModel {
    public let directory: String
    public let config: ModelConfig
    public let checkpoint: Checkpoint
    public let tokenizer: Tokenizer
    public let model: LlamaModel

    /// A one-line description of the weights, e.g. "F16 weights" or "QQQ W4A8 g128".
    public let weightsDescription: String
}

public enum ModelLoader {
    /// Opens a Hugging Face model folder (config.json, safetensors, tokenizer.json).
    public static func load(directory: String, fakeQuant: Bool = false, w8a8: Bool = false) throws -> LoadedModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw QQQError.badFile(path: directory, reason: "not a model folder (it does not exist or is not a directory)")
        }
        let config = try ModelConfig.load(directory: directory)
        let checkpoint = try Checkpoint(directory: directory)
        let tokenizer = try Tokenizer.load(directory: directory)
        var factory: LinearFactory?
        var description: String
        if let q = config.quantization {
            guard !w8a8 else { throw QQQError.invalidInput("--w8a8 quantizes a float checkpoint; \(directory) is already quantized") }
            guard q.quantMethod == "qqq", q.wbits == nil || q.wbits == 4 else {
                throw QQQError.unsupported("quantization method '\(q.quantMethod)' (wbits \(q.wbits ?? 0)) in \(config.path): qqq reads its own W4A8 checkpoints")
            }
            let group = q.groupSize ?? -1
            factory = try QuantizedLinearLoader.factory(checkpoint, groupSize: group, fakeQuant: fakeQuant)
            description = "QQQ W4A8 \(group == 128 ? "g128" : "per-channel")\(fakeQuant ? ", fake-quant float emulation" : ", integer kernels")"
        } else if w8a8 {
            factory = W8A8OnLoad.factory(checkpoint)
            description = "RTN W8A8 at load time, integer kernels"
        } else {
            guard !fakeQuant else { throw QQQError.invalidInput("--fake-quant needs a quantized checkpoint; \(directory) is not one") }
            let dtype = (try? checkpoint.info("model.layers.0.self_attn.q_proj.weight").dtype.rawValue) ?? "unknown"
            description = "\(dtype) weights"
        }
        let model = try LlamaModel(config: config, checkpoint: checkpoint, linearFactory: factory)
        return LoadedModel(directory: directory, config: config, checkpoint: checkpoint, tokenizer: tokenizer,
                           model: model, weightsDescription: description)
    }
}
