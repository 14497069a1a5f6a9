import Foundation

/// RoPE in Hugging Face's half-rotation layout: dimension i pairs with i + headDim/2 (not adjacent
/// pairs as in the original paper / llama.cpp). cos/sin tables are built once per length.
public final class RotaryEmbedding {
    public let headDim: Int
    private let inverseFrequencies: [Float]
    private(set) var cosTable: [Float] = []  // [positions][headDim/2]
    private(set) var sinTable: [Float] = []
    private(set) var positions = 0

    public init(config: ModelConfig) {
        headDim = config.headDim
        inverseFrequencies = config.ropeInverseFrequencies()
    }

    /// Makes the tables cover positions 0..<count.
    func prepare(positions count: Int) {
        guard count > positions else { return }
        let half = headDim / 2
        cosTable = [Float](repeating: 0, count: count * half)
        sinTable = [Float](repeating: 0, count: count * half)
        for p in 0..<count {
            for i in 0..<half {
                // HF computes the angle as an fp32 product, then cos/sin in fp32.
                let angle = Float(p) * inverseFrequencies[i]
                cosTable[p * half + i] = Float(cos(Double(angle)))
                sinTable[p * half + i] = Float(sin(Double(angle)))
            }
        }
        positions = count
    }

    /// Rotates `heads` heads of every row in place; row r has position `start + r`.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, ld: Int, heads: Int, start: Int = 0, threads: Int = 1) {
        prepare(positions: start + rows)
        let half = headDim / 2
        cosTable.withUnsafeBufferPointer { cosT in
            sinTable.withUnsafeBufferPointer { sinT in
              parallelRanges(rows, threads: threads, minPerThread: 128) { rs in
                for r in rs {
                    let c = cosT.baseAddress! + (start + r) * half
                    let s = sinT.baseAddress! + (start + r) * half
                    for h in 0..<heads {
                        let v = x + r * ld + h * headDim
                        for i in 0..<half {
                            let a = v[i], b = v[i + half]
                            v[i] = a * c[i] - b * s[i]
                            v[i + half] = b * c[i] + a * s[i]
                        }
                    }
                }
              }
            }
        }
    }
}
