/// Activations of one forward pass over up to `capacity` tokens, allocated once and reused by
/// every layer and window.
final class ForwardBuffers {
    let capacity: Int
    let x: UnsafeMutablePointer<Float>     // residual stream [T][hidden]
    let h: UnsafeMutablePointer<Float>     // normed input / projection output [T][hidden]
    let q: UnsafeMutablePointer<Float>     // [T][heads*headDim]
    let k: UnsafeMutablePointer<Float>     // [T][kvHeads*headDim]
    let v: UnsafeMutablePointer<Float>
    let attn: UnsafeMutablePointer<Float>  // attention output [T][heads*headDim]
    let gate: UnsafeMutablePointer<Float>  // [T][intermediate]
    let up: UnsafeMutablePointer<Float>
    private let all: [UnsafeMutablePointer<Float>]

    /// Bytes held, for memory reports.
    let bytes: Int

    init(config c: ModelConfig, capacity: Int) {
        self.capacity = capacity
        let qDim = c.numHeads * c.headDim, kvDim = c.numKVHeads * c.headDim
        let sizes = [c.hiddenSize, c.hiddenSize, qDim, kvDim, kvDim, qDim, c.intermediateSize, c.intermediateSize]
        let ptrs = sizes.map { size -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity * size)
            p.initialize(repeating: 0, count: capacity * size)
            return p
        }
        (x, h, q, k, v, attn, gate, up) = (ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6], ptrs[7])
        all = ptrs
        bytes = sizes.reduce(0, +) * capacity * MemoryLayout<Float>.size
    }

    deinit { all.forEach { $0.deallocate() } }
}
