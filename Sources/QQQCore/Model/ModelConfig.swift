import Foundation

/// `config.json` of a supported causal LM, validated.
public struct ModelConfig: Sendable {
    public enum Architecture: String, Sendable, CaseIterable {
        case llama = "LlamaForCausalLM", mistral = "MistralForCausalLM", qwen2 = "Qwen2ForCausalLM"
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
    /// q/k/v projections carry biases (Qwen2, or `attention_bias: true`).
    public var attentionBias: Bool
    public var slidingWindow: Int?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var torchDtype: String?
    public var quantization: QuantizationConfig?
    /// The whole config.json, so writers can copy it and add keys.
    public var rawJSON: Data
    public let path: String

    public static func load(directory: String) throws -> ModelConfig {
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QQQError.badFile(path: path, reason: "missing or unreadable")
        }
        return try ModelConfig(json: data, path: path)
    }

    public init(json: Data, path: String) throws {
        self.path = path
        rawJSON = json
        guard let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw QQQError.badFile(path: path, reason: "not a JSON object")
        }
        func fail(_ reason: String) -> QQQError { .badFile(path: path, reason: reason) }
        func int(_ key: String) throws -> Int {
            guard let n = obj[key] as? NSNumber else { throw fail("missing integer '\(key)'") }
            guard n.intValue > 0 else { throw fail("'\(key)' must be positive, got \(n)") }
            return n.intValue
        }
        func optionalInt(_ key: String) -> Int? { (obj[key] as? NSNumber)?.intValue }

        let archs = obj["architectures"] as? [String] ?? []
        guard let name = archs.first else { throw fail("no \"architectures\" entry") }
        guard let arch = Architecture(rawValue: name) else {
            throw QQQError.unsupported("architecture '\(name)' in \(path) (supported: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        architecture = arch
        hiddenSize = try int("hidden_size")
        intermediateSize = try int("intermediate_size")
        numLayers = try int("num_hidden_layers")
        numHeads = try int("num_attention_heads")
        numKVHeads = optionalInt("num_key_value_heads") ?? numHeads
        headDim = optionalInt("head_dim") ?? hiddenSize / numHeads
        vocabSize = try int("vocab_size")
        maxPositionEmbeddings = optionalInt("max_position_embeddings") ?? 0
        rmsNormEps = Float((obj["rms_norm_eps"] as? NSNumber)?.doubleValue ?? 1e-6)
        ropeTheta = (obj["rope_theta"] as? NSNumber)?.doubleValue ?? 10000
        tieWordEmbeddings = (obj["tie_word_embeddings"] as? NSNumber)?.boolValue ?? false
        attentionBias = arch == .qwen2 || ((obj["attention_bias"] as? NSNumber)?.boolValue ?? false)
        slidingWindow = optionalInt("sliding_window")
        bosTokenId = optionalInt("bos_token_id")
        eosTokenId = optionalInt("eos_token_id") ?? (obj["eos_token_id"] as? [NSNumber])?.first?.intValue
        torchDtype = obj["torch_dtype"] as? String ?? obj["dtype"] as? String
        if let act = obj["hidden_act"] as? String, act != "silu" {
            throw QQQError.unsupported("hidden_act '\(act)' in \(path) (only silu)")
        }
        guard numKVHeads > 0, numHeads % numKVHeads == 0 else {
            throw fail("num_attention_heads \(numHeads) is not a multiple of num_key_value_heads \(numKVHeads)")
        }
        guard headDim > 0, headDim % 2 == 0 else { throw fail("head_dim \(headDim) must be even and positive") }
        if let scaling = obj["rope_scaling"] as? [String: Any] {
            ropeScaling = try RopeScaling(scaling, path: path)
        } else {
            ropeScaling = nil
        }
        if let q = obj["quantization_config"] as? [String: Any] {
            quantization = try QuantizationConfig(q, path: path)
        } else {
            quantization = nil
        }
    }

    /// RoPE inverse frequencies (HF semantics, llama3 and linear scaling included), computed in Double.
    public func ropeInverseFrequencies() -> [Float] {
        let half = headDim / 2
        var inv = (0..<half).map { 1 / pow(ropeTheta, Double(2 * $0) / Double(headDim)) }
        if let s = ropeScaling { inv = s.apply(inv) }
        return inv.map { Float($0) }
    }
}

/// `rope_scaling` of config.json.
public struct RopeScaling: Sendable {
    public enum Kind: String, Sendable { case llama3, linear }
    public var kind: Kind
    public var factor: Double
    public var lowFreqFactor: Double
    public var highFreqFactor: Double
    public var originalMaxPositionEmbeddings: Double

    init(_ obj: [String: Any], path: String) throws {
        let type = (obj["rope_type"] as? String) ?? (obj["type"] as? String) ?? "?"
        if type == "default" {
            kind = .linear; factor = 1; lowFreqFactor = 1; highFreqFactor = 4; originalMaxPositionEmbeddings = 8192
            return
        }
        guard let k = Kind(rawValue: type) else {
            throw QQQError.unsupported("rope_scaling type '\(type)' in \(path) (supported: llama3, linear)")
        }
        kind = k
        factor = (obj["factor"] as? NSNumber)?.doubleValue ?? 1
        lowFreqFactor = (obj["low_freq_factor"] as? NSNumber)?.doubleValue ?? 1
        highFreqFactor = (obj["high_freq_factor"] as? NSNumber)?.doubleValue ?? 4
        originalMaxPositionEmbeddings = (obj["original_max_position_embeddings"] as? NSNumber)?.doubleValue ?? 8192
    }

    /// HF `_compute_llama3_parameters` / linear scaling applied to the inverse frequencies.
    func apply(_ inv: [Double]) -> [Double] {
        switch kind {
        case .linear:
            return inv.map { $0 / factor }
        case .llama3:
            let lowWavelen = originalMaxPositionEmbeddings / lowFreqFactor
            let highWavelen = originalMaxPositionEmbeddings / highFreqFactor
            return inv.map { f in
                let wavelen = 2 * Double.pi / f
                if wavelen < highWavelen { return f }
                if wavelen > lowWavelen { return f / factor }
                let smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
    }
}

/// The `quantization_config` block of a quantized checkpoint.
public struct QuantizationConfig: Sendable {
    public var quantMethod: String
    public var wbits: Int?
    public var groupSize: Int?

    init(_ obj: [String: Any], path: String) throws {
        guard let method = obj["quant_method"] as? String else {
            throw QQQError.badFile(path: path, reason: "quantization_config has no quant_method")
        }
        quantMethod = method
        wbits = (obj["wbits"] as? NSNumber)?.intValue ?? (obj["bits"] as? NSNumber)?.intValue
        groupSize = (obj["group_size"] as? NSNumber)?.intValue
    }
}
