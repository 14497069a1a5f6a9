/// What `qqq quantize` did, written as `quantize-report.json` beside the checkpoint.
public struct QuantizeReport: Codable {
    public struct Linear: Codable {
        public let name: String
        public let rows: Int
        public let columns: Int
        /// GPTQ's error Σ (w - q)² / d² as IST-DASLab/gptq reports it (0 for RTN).
        public let gptqError: Double
        public let percDamp: Double
        public let warnings: [String]
    }

    public struct Layer: Codable {
        public let index: Int
        public var smoothing: [LayerSmoother.Choice]
        public var linears: [Linear]
        public var seconds: [String: Double]
    }

    public var tool: String
    public var options: QuantizeOptions
    public var calibrationSource: String
    public var calibrationTokens: Int
    public var layers: [Layer] = []
    public var stageSeconds: [String: Double] = [:]
    public var totalSeconds: Double = 0
    public var sizeBeforeBytes: Int = 0
    public var sizeAfterBytes: Int = 0
    public var quantizedWeights: Int = 0
    public var bitsPerWeight: Double = 0
    public var activationBufferBytes: Int = 0
    public var peakRSSBytes: Int = 0
}
