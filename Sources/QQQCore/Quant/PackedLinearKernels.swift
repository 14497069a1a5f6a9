import QQQKernels

extension QQQPackedLinear {
    /// The integer kernels' weights for this layer (the same repack `qqq eval` does at load).
    func intWeights() throws -> IntWeights {
        try qweight.withUnsafeBytes { q in
            try sChannel.withUnsafeBufferPointer { sc in
                if groupSize > 0 {
                    return try sGroup.withUnsafeBufferPointer { sg in
                        try IntWeights.w4(plainNibbles: q.baseAddress!, n: rows, k: columns, scale: sc.baseAddress!, sGroup: sg.baseAddress!)
                    }
                }
                return try IntWeights.w4(plainNibbles: q.baseAddress!, n: rows, k: columns, scale: sc.baseAddress!)
            }
        }
    }
}
