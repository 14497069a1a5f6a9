import Foundation

/// RoPE frequency scaling from `rope_scaling` in config.json, with Hugging Face semantics.
public struct RopeScaling: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Position interpolation: every inverse frequency divided by `factor`.
        case linear
        /// LLaMA 3.1: low frequencies divided by `factor`, high ones kept, a smooth ramp between.
        case llama3
    }

    public var kind: Kind
    public var factor: Double
    /// llama3 only.
    public var lowFreqFactor: Double
    /// llama3 only.
    public var highFreqFactor: Double
    /// llama3 only: the context length the model was trained at before scaling.
    public var originalMaxPositionEmbeddings: Int

    public init(kind: Kind, factor: Double, lowFreqFactor: Double = 1, highFreqFactor: Double = 4,
                originalMaxPositionEmbeddings: Int = 8192) {
        self.kind = kind
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
    }

    /// Parses a `rope_scaling` (or transformers 5 `rope_parameters`) object. Returns nil for the
    /// "default" type (no scaling); throws `unsupported` for types we do not implement.
    static func parse(_ object: [String: Any], path: String, key: String) throws -> RopeScaling? {
        let typeValue = object["rope_type"] ?? object["type"]
        guard let type = typeValue as? String else {
            throw QQQError.badFile(path: path, reason: "\(key) has no 'rope_type' (or 'type') string")
        }
        func number(_ name: String) throws -> Double {
            guard let v = object[name] else {
                throw QQQError.badFile(path: path, reason: "\(key) (\(type)) is missing '\(name)'")
            }
            guard let d = JSONValue.double(v), d.isFinite, d > 0 else {
                throw QQQError.badFile(path: path, reason: "\(key).\(name) is \(JSONValue.describe(v)), expected a positive number")
            }
            return d
        }
        switch type {
        case "default":
            return nil
        case "linear":
            return RopeScaling(kind: .linear, factor: try number("factor"))
        case "llama3":
            let factor = try number("factor")
            let low = try number("low_freq_factor")
            let high = try number("high_freq_factor")
            let original = try number("original_max_position_embeddings")
            guard high > low else {
                throw QQQError.badFile(path: path, reason: "\(key): high_freq_factor (\(high)) must exceed low_freq_factor (\(low))")
            }
            guard original == original.rounded(), original < 1e9 else {
                throw QQQError.badFile(path: path, reason: "\(key).original_max_position_embeddings must be an integer")
            }
            return RopeScaling(kind: .llama3, factor: factor, lowFreqFactor: low, highFreqFactor: high,
                               originalMaxPositionEmbeddings: Int(original))
        default:
            throw QQQError.unsupported("\(key) type '\(type)' in \(path) (supported: default, linear, llama3)")
        }
    }

    /// Applies the scaling to unscaled inverse frequencies (as transformers'
    /// `_compute_llama3_parameters` / linear scaling do).
    public func apply(_ inverseFrequencies: [Double]) -> [Double] {
        switch kind {
        case .linear:
            return inverseFrequencies.map { $0 / factor }
        case .llama3:
            let original = Double(originalMaxPositionEmbeddings)
            let lowFreqWavelen = original / lowFreqFactor
            let highFreqWavelen = original / highFreqFactor
            return inverseFrequencies.map { f in
                let wavelen = 2 * Double.pi / f
                if wavelen < highFreqWavelen { return f }            // high frequency: unchanged
                if wavelen > lowFreqWavelen { return f / factor }    // low frequency: interpolated
                let smooth = (original / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
    }
}
