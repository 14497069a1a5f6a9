import Foundation

/// The parts of a Hugging Face `config.json` that inference and quantization need, validated.
public struct ModelConfig: Sendable {
    public enum Architecture: String, Sendable, CaseIterable {
        case llama = "LlamaForCausalLM"
        case mistral = "MistralForCausalLM"
        case qwen2 = "Qwen2ForCausalLM"

        /// `model_type` values, used when `architectures` is absent.
        init?(modelType: String) {
            switch modelType {
            case "llama": self = .llama
            case "mistral": self = .mistral
            case "qwen2": self = .qwen2
            default: return nil
            }
        }

        /// transformers' default `max_position_embeddings` per config class.
        var defaultMaxPositionEmbeddings: Int {
            switch self {
            case .llama: return 2048
            case .mistral: return 4096 * 32
            case .qwen2: return 32768
            }
        }
    }

    public var architecture: Architecture
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var tieWordEmbeddings: Bool
    /// Bias on the q/k/v projections (always true for Qwen2; `attention_bias` for LLaMA, where it
    /// also puts a bias on o_proj).
    public var attentionBias: Bool
    /// Bias on gate/up/down projections (LLaMA `mlp_bias`).
    public var mlpBias: Bool
    /// Mistral sliding-window attention span (Qwen2 only when `use_sliding_window` is true).
    /// Sequences no longer than this are unaffected by it.
    public var slidingWindow: Int?
    public var bosTokenId: Int?
    /// The first of `eosTokenIds`.
    public var eosTokenId: Int?
    /// `eos_token_id` may be a list (LLaMA 3.1 instruct models).
    public var eosTokenIds: [Int]
    public var torchDtype: String?
    public var quantization: QuantizationConfig?
    /// The whole config.json, so writers can copy it and add keys.
    public var rawJSON: Data
    /// Where the config came from, for error messages.
    public let path: String

    public static let fileName = "config.json"

    public static func load(directory: String) throws -> ModelConfig {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw QQQError.badFile(path: path, reason: "missing")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QQQError.badFile(path: path, reason: "cannot read")
        }
        return try ModelConfig(json: data, path: path)
    }

    public init(json: Data, path: String) throws {
        self.path = path
        rawJSON = json
        guard let parsed = try? JSONSerialization.jsonObject(with: json, options: []) else {
            throw QQQError.badFile(path: path, reason: "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw QQQError.badFile(path: path, reason: "not a JSON object")
        }
        let r = ConfigReader(object: object, path: path)

        // Architecture: `architectures[0]`, else `model_type`.
        if let archValue = r.present("architectures") {
            guard let list = archValue as? [Any], let name = list.first as? String else {
                throw QQQError.badFile(path: path, reason: "'architectures' is \(JSONValue.describe(archValue)), expected a list of class names")
            }
            guard let arch = Architecture(rawValue: name) else {
                throw QQQError.unsupported("architecture '\(name)' in \(path) (supported: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            architecture = arch
        } else if let modelType = try r.string("model_type") {
            guard let arch = Architecture(modelType: modelType) else {
                throw QQQError.unsupported("model_type '\(modelType)' in \(path) (supported: llama, mistral, qwen2)")
            }
            architecture = arch
        } else {
            throw QQQError.badFile(path: path, reason: "missing 'architectures' (and no 'model_type')")
        }

        hiddenSize = try r.positiveInt("hidden_size")
        intermediateSize = try r.positiveInt("intermediate_size")
        numLayers = try r.positiveInt("num_hidden_layers")
        numHeads = try r.positiveInt("num_attention_heads")
        vocabSize = try r.positiveInt("vocab_size")
        numKVHeads = try r.positiveInt("num_key_value_heads", default: numHeads)
        guard numHeads % numKVHeads == 0 else {
            throw QQQError.badFile(path: path, reason: "num_attention_heads (\(numHeads)) is not a multiple of num_key_value_heads (\(numKVHeads))")
        }
        if r.present("head_dim") != nil {
            headDim = try r.positiveInt("head_dim")
        } else {
            guard hiddenSize % numHeads == 0 else {
                throw QQQError.badFile(path: path, reason: "hidden_size (\(hiddenSize)) is not divisible by num_attention_heads (\(numHeads)) and no head_dim is given")
            }
            headDim = hiddenSize / numHeads
        }
        guard headDim % 2 == 0 else {
            throw QQQError.badFile(path: path, reason: "head_dim (\(headDim)) must be even for rotary embeddings")
        }
        maxPositionEmbeddings = try r.positiveInt("max_position_embeddings", default: architecture.defaultMaxPositionEmbeddings)

        let eps = try r.double("rms_norm_eps") ?? 1e-6
        guard eps.isFinite, eps > 0, Float(eps) > 0 else {
            throw QQQError.badFile(path: path, reason: "rms_norm_eps (\(eps)) must be a small positive number")
        }
        rmsNormEps = Float(eps)

        // transformers 5 moves rope_theta / rope_scaling into `rope_parameters`.
        let ropeParameters = try r.object("rope_parameters")
        var theta = try r.double("rope_theta")
        if theta == nil, let rp = ropeParameters, let v = rp["rope_theta"] {
            guard let d = JSONValue.double(v) else {
                throw QQQError.badFile(path: path, reason: "rope_parameters.rope_theta is \(JSONValue.describe(v)), expected a number")
            }
            theta = d
        }
        ropeTheta = theta ?? 10000
        guard ropeTheta.isFinite, ropeTheta > 1 else {
            throw QQQError.badFile(path: path, reason: "rope_theta (\(ropeTheta)) must be a number greater than 1")
        }
        if let scaling = try r.object("rope_scaling") {
            ropeScaling = try RopeScaling.parse(scaling, path: path, key: "rope_scaling")
        } else if let rp = ropeParameters, rp["rope_type"] != nil || rp["type"] != nil {
            ropeScaling = try RopeScaling.parse(rp, path: path, key: "rope_parameters")
        } else {
            ropeScaling = nil
        }

        let act = try r.string("hidden_act") ?? "silu"
        guard act == "silu" || act == "swish" else {
            throw QQQError.unsupported("hidden_act '\(act)' in \(path) (supported: silu)")
        }

        tieWordEmbeddings = try r.bool("tie_word_embeddings") ?? false
        switch architecture {
        case .llama:
            attentionBias = try r.bool("attention_bias") ?? false
            mlpBias = try r.bool("mlp_bias") ?? false
            slidingWindow = nil
        case .mistral:
            attentionBias = false
            mlpBias = false
            slidingWindow = try r.optionalPositiveInt("sliding_window")
        case .qwen2:
            attentionBias = true
            mlpBias = false
            let use = try r.bool("use_sliding_window") ?? false
            slidingWindow = use ? try r.optionalPositiveInt("sliding_window") : nil
        }

        bosTokenId = try r.optionalTokenId("bos_token_id")
        if let eos = r.present("eos_token_id") {
            if let list = eos as? [Any] {
                eosTokenIds = try list.map { v in
                    guard let i = JSONValue.lenientInt(v), i >= 0 else {
                        throw QQQError.badFile(path: path, reason: "eos_token_id list holds \(JSONValue.describe(v)), expected token ids")
                    }
                    return i
                }
            } else {
                eosTokenIds = [try r.optionalTokenId("eos_token_id")].compactMap { $0 }
            }
        } else {
            eosTokenIds = []
        }
        eosTokenId = eosTokenIds.first
        torchDtype = try r.string("torch_dtype") ?? r.string("dtype")

        if let q = try r.object("quantization_config") {
            quantization = try QuantizationConfig(q, path: path)
        } else {
            quantization = nil
        }
    }

    /// RoPE inverse frequencies for `headDim` (headDim/2 values): theta^(-2i/headDim), then the
    /// configured scaling. Computed in Double, returned as Float.
    public func ropeInverseFrequencies() -> [Float] {
        let half = headDim / 2
        var inv = (0..<half).map { i in 1.0 / pow(ropeTheta, Double(2 * i) / Double(headDim)) }
        if let ropeScaling { inv = ropeScaling.apply(inv) }
        return inv.map { Float($0) }
    }

    /// Query heads sharing one key/value head.
    public var headsPerKVHead: Int { numHeads / numKVHeads }
}

/// The `quantization_config` block of config.json.
public struct QuantizationConfig: Sendable {
    public var quantMethod: String
    /// Weight bits (`wbits`, or `bits` as GPTQ/AWQ write it).
    public var wbits: Int?
    /// Group size; -1 conventionally means per-channel.
    public var groupSize: Int?
    /// The block as JSON, preserved whole (other keys are the quantizer's own).
    public var rawJSON: Data

    init(_ object: [String: Any], path: String) throws {
        let r = ConfigReader(object: object, path: path, prefix: "quantization_config.")
        guard let method = try r.string("quant_method") else {
            throw QQQError.badFile(path: path, reason: "quantization_config has no 'quant_method'")
        }
        quantMethod = method
        wbits = try r.optionalInt("wbits") ?? r.optionalInt("bits")
        groupSize = try r.optionalInt("group_size")
        rawJSON = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// The raw block parsed again, for callers that need other keys.
    public func object() -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: rawJSON)) as? [String: Any]) ?? [:]
    }
}

/// Typed, error-reporting access to config.json keys. A JSON `null` counts as absent.
struct ConfigReader {
    let object: [String: Any]
    let path: String
    var prefix = ""

    func present(_ key: String) -> Any? {
        guard let v = object[key], !(v is NSNull) else { return nil }
        return v
    }

    private func bad(_ key: String, _ v: Any, _ expected: String) -> QQQError {
        .badFile(path: path, reason: "'\(prefix)\(key)' is \(JSONValue.describe(v)), expected \(expected)")
    }

    func positiveInt(_ key: String) throws -> Int {
        guard let v = present(key) else {
            throw QQQError.badFile(path: path, reason: "missing '\(prefix)\(key)'")
        }
        guard let i = JSONValue.lenientInt(v), i > 0 else { throw bad(key, v, "a positive integer") }
        return i
    }

    func positiveInt(_ key: String, default value: Int) throws -> Int {
        present(key) == nil ? value : try positiveInt(key)
    }

    func optionalPositiveInt(_ key: String) throws -> Int? {
        present(key) == nil ? nil : try positiveInt(key)
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let v = present(key) else { return nil }
        guard let i = JSONValue.lenientInt(v) else { throw bad(key, v, "an integer") }
        return i
    }

    func optionalTokenId(_ key: String) throws -> Int? {
        guard let v = present(key) else { return nil }
        guard let i = JSONValue.lenientInt(v), i >= 0 else { throw bad(key, v, "a token id") }
        return i
    }

    func double(_ key: String) throws -> Double? {
        guard let v = present(key) else { return nil }
        guard let d = JSONValue.double(v) else { throw bad(key, v, "a number") }
        return d
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = present(key) else { return nil }
        guard let b = JSONValue.bool(v) else { throw bad(key, v, "true or false") }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard let v = present(key) else { return nil }
        guard let s = v as? String else { throw bad(key, v, "a string") }
        return s
    }

    func object(_ key: String) throws -> [String: Any]? {
        guard let v = present(key) else { return nil }
        guard let o = v as? [String: Any] else { throw bad(key, v, "an object") }
        return o
    }
}
