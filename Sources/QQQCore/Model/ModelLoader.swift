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
    public static func load(directory: String) throws -> LoadedModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw QQQError.badFile(path: directory, reason: "not a model folder (it does not exist or is not a directory)")
        }
        let config = try ModelConfig.load(directory: directory)
        let checkpoint = try Checkpoint(directory: directory)
        let tokenizer = try Tokenizer.load(directory: directory)
        let model = try LlamaModel(config: config, checkpoint: checkpoint)
        let dtype = (try? checkpoint.info("model.layers.0.self_attn.q_proj.weight").dtype.rawValue) ?? "unknown"
        return LoadedModel(directory: directory, config: config, checkpoint: checkpoint, tokenizer: tokenizer,
                           model: model, weightsDescription: "\(dtype) weights")
    }
}
