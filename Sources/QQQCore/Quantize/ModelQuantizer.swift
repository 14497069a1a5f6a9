import Foundation
import QQQKernels

/// `qqq quantize`: calibration, adaptive smoothing and GPTQ layer by layer, then the packed W4A8
/// checkpoint. The checkpoint is streamed one layer at a time from the mapped file; the calibration
/// activations of all windows ([nsamples][seqlen][hidden] fp32) are the largest buffer and are sized
/// up front.
///
/// Within a layer GPTQ runs "true sequential" (as GPTQModel does): q/k/v are quantized from the layer
/// input's Hessian, then o_proj from the attention output of the quantized q/k/v, then gate/up, then
/// down, each Hessian taken on inputs that already carry the earlier sub-layers' quantization; the
/// next layer's inputs come from the quantized layer, whose linears run as `--forward-kernels` says
/// (default: the W4A8 integer kernels with int8 activations, as deployed; the reference uses float
/// activations).
public final class ModelQuantizer {
    public struct Progress {
        public let layer: Int       // 1-based
        public let layers: Int
        public let stage: String
        public let elapsed: Double
        public let eta: Double
    }

    public let modelDirectory: String
    public let options: QuantizeOptions
    let config: ModelConfig
    let checkpoint: Checkpoint
    let tokenizer: Tokenizer
    public static let version = "qqq 0.1.0"

    public init(modelDirectory: String, options: QuantizeOptions) throws {
        self.modelDirectory = modelDirectory
        self.options = options
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelDirectory, isDirectory: &isDir), isDir.boolValue else {
            throw QQQError.badFile(path: modelDirectory, reason: "not a model folder (it does not exist or is not a directory)")
        }
        config = try ModelConfig.load(directory: modelDirectory)
        if let q = config.quantization {
            throw QQQError.invalidInput("\(config.path): the checkpoint is already quantized (quant_method '\(q.quantMethod)'); qqq quantize needs FP16/BF16/FP32 weights")
        }
        guard options.groupSize == -1 || options.groupSize == 128 else {
            throw QQQError.invalidInput("group size \(options.groupSize) is not supported (use -1 for per-channel or 128)")
        }
        checkpoint = try Checkpoint(directory: modelDirectory)
        tokenizer = try Tokenizer.load(directory: modelDirectory)
        // The CPU formats need K % 32 == 0 for every quantized linear.
        let c = config
        for (name, k) in [("self_attn.q_proj/k_proj/v_proj, mlp.gate_proj/up_proj", c.hiddenSize),
                          ("self_attn.o_proj", c.numHeads * c.headDim), ("mlp.down_proj", c.intermediateSize)] where k % 32 != 0 {
            throw QQQError.unsupported("model.layers.*.\(name): K = \(k) is not a multiple of 32, which the W4A8 formats require")
        }
        let dtype = try checkpoint.info("model.layers.0.self_attn.q_proj.weight").dtype
        guard dtype.isFloat, dtype != .f64 else {
            throw QQQError.badTensor(path: checkpoint.directory, tensor: "model.layers.0.self_attn.q_proj.weight",
                                     reason: "dtype \(dtype.rawValue): qqq quantize reads F16, BF16 or F32 weights")
        }
    }

    /// Bytes of the fp16 copy of down_proj's inputs (all windows) that spares re-running gate/up.
    var downInputCacheBytes: Int { options.gptq ? options.nsamples * options.seqlen * config.intermediateSize * 2 : 0 }

    /// The copy is kept only while all the activation buffers with it stay within a quarter of the
    /// machine's memory (a 7B model at 128 x 2048 would need 5.4 GiB for it on top of 8 GiB); otherwise
    /// gate/up run again. Both ways give the same bytes: recomputed inputs are rounded through fp16
    /// exactly like the cached ones.
    var cachesDownInputs: Bool {
        downInputCacheBytes > 0 && UInt64(floatActivationBytes + downInputCacheBytes) <= downInputCacheLimit
    }
    var downInputCacheLimit = ProcessInfo.processInfo.physicalMemory / 4

    /// The fp32 buffers: layer inputs and attention outputs of every window.
    var floatActivationBytes: Int {
        options.gptq || options.smooth ? options.nsamples * options.seqlen * (config.hiddenSize + config.numHeads * config.headDim) * 4 : 0
    }

    /// Bytes of the calibration activation buffers for these options.
    public var activationBytes: Int {
        floatActivationBytes + (cachesDownInputs ? downInputCacheBytes : 0)
    }

    public func run(outputDirectory: String, force: Bool, progress: ((Progress) -> Void)? = nil,
                    log: ((String) -> Void)? = nil) throws -> QuantizeReport {
        let total = Stopwatch()
        // Checked before any work: the sizes the rotation can reach (hidden size, power-of-two head_dim).
        let rotation = options.rotate ? try LayerWeights.rotation(for: config, seed: options.seed) : nil
        let output = try StagedOutputFolder(path: outputDirectory, force: force)
        // Every parallel loop (GEMMs, Hessians, GPTQ rows) honours --threads.
        Gemm.defaultThreads = options.threads
        GPTQ.threads = options.threads

        let c = config
        var report = QuantizeReport(tool: Self.version, options: options, calibrationSource: options.calibration, calibrationTokens: 0)
        let stage = Stopwatch()
        let calib = try CalibrationSet.load(path: options.calibration, tokenizer: tokenizer, nsamples: options.nsamples,
                                            seqlen: options.seqlen, seed: options.seed)
        report.calibrationTokens = calib.streamTokens
        report.stageSeconds["calibration text"] = stage.seconds
        report.activationBufferBytes = activationBytes
        log?("calibration: \(calib.nsamples) windows of \(calib.seqlen) tokens from \(calib.source) (\(calib.streamTokens) tokens), seed \(options.seed); activation buffers \(formatBytes(activationBytes))")
        let cacheDown = cachesDownInputs
        if options.gptq && !cacheDown {
            log?("down_proj inputs recomputed for the layer outputs: caching them would take \(formatBytes(downInputCacheBytes)) more, beyond a quarter of this machine's memory")
        }

        let t = options.seqlen, h = c.hiddenSize, qd = c.numHeads * c.headDim, inter = c.intermediateSize
        // Round-to-nearest without smoothing needs no activations: the windows are not run at all.
        let n = options.gptq || options.smooth ? calib.nsamples : 0
        // Layer inputs (residual stream) and attention outputs of every window.
        let x = UnsafeMutablePointer<Float>.allocate(capacity: n * t * h)
        let attn = UnsafeMutablePointer<Float>.allocate(capacity: n * t * qd)
        // down_proj's inputs, kept in fp16 from its Hessian pass for the layer-output pass, so that
        // gate/up (half of a layer's linear work) run once instead of twice per window.
        let downInputs = UnsafeMutablePointer<UInt16>.allocate(capacity: cacheDown ? n * t * inter : 0)
        defer { x.deallocate(); attn.deallocate(); downInputs.deallocate() }
        let embed = try checkpoint.tensor("model.embed_tokens.weight", shape: [c.vocabSize, h])
        // The rotated embedding table, rounded to fp16 as it is written, so that the calibration windows
        // start from the values the deployed model reads.
        var rotatedEmbed: [UInt16] = []
        if let rotation {
            var table = try embed.toFloat32()
            table.withUnsafeMutableBufferPointer { rotation.rotateRows($0.baseAddress!, rows: c.vocabSize, ld: h, threads: options.threads) }
            rotatedEmbed = [UInt16](repeating: 0, count: table.count)
            table.withUnsafeBufferPointer { src in
                rotatedEmbed.withUnsafeMutableBytes { dst in VectorOps.f32ToF16(src.baseAddress!, dst.baseAddress!, count: src.count) }
            }
        }
        for i in 0..<(n * t) {
            let id = Int(calib.tokens[i])
            guard id >= 0 && id < c.vocabSize else { throw QQQError.invalidInput("calibration token id \(id) outside the vocabulary") }
            if rotation != nil {
                rotatedEmbed.withUnsafeBytes { VectorOps.f16ToF32($0.baseAddress! + 2 * id * h, x + i * h, count: h) }
            } else {
                try embed.copyFloat32(into: x + i * h, elementOffset: id * h, count: h)
            }
        }

        // Packed layers are spilled to the scratch folder as they come (not held in memory).
        var writer = try SafetensorsWriter(spillFolder: output.scratch.path)
        // Stored as fp16; an fp16 source is copied as it is (no fp32 copy of the whole table).
        if rotation != nil {
            try writer.add(name: "model.embed_tokens.weight", dtype: .f16, shape: [c.vocabSize, h],
                           bytes: rotatedEmbed.withUnsafeBytes { Data($0) })
            rotatedEmbed = []
        } else if embed.dtype == .f16 {
            try writer.add(name: "model.embed_tokens.weight", dtype: .f16, shape: [c.vocabSize, h], bytes: Data(embed.rawBuffer))
        } else {
            try writer.add(name: "model.embed_tokens.weight", floats: embed.toFloat32(), shape: [c.vocabSize, h], as: .f16)
        }
        embed.dropPages()
        let math = LayerMath(config: c, tokens: t, threads: options.threads)
        var xn = [Float](repeating: 0, count: t * max(h, inter))
        var up = [Float](repeating: 0, count: t * inter)
        var proj = [Float](repeating: 0, count: t * h)
        let gptqOptions = GPTQOptions(groupSize: options.groupSize, actOrder: options.actOrder, staticGroups: true,
                                      percDamp: options.percDamp, blockSize: options.blockSize, mse: options.mse)
        var stageTotals: [String: Double] = [:]
        // fp16 round trips of down_proj's inputs (3 M values per window), split across the threads.
        let threads = options.threads
        func toF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
            parallelElements(count, threads: threads) { off, n in VectorOps.f32ToF16(src + off, dst + 2 * off, count: n) }
        }
        func toF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
            parallelElements(count, threads: threads) { off, n in VectorOps.f16ToF32(src + 2 * off, dst + off, count: n) }
        }
        let layerClock = Stopwatch()

        for li in 0..<c.numLayers {
            let prefix = "model.layers.\(li)."
            var L = try LayerWeights(checkpoint: checkpoint, config: c, layer: li)
            var entry = QuantizeReport.Layer(index: li, smoothing: [], linears: [], seconds: [:])
            func announce(_ name: String) {
                let elapsed = layerClock.seconds
                let done = Double(li) + 0.5
                progress?(Progress(layer: li + 1, layers: c.numLayers, stage: name, elapsed: elapsed,
                                   eta: elapsed / done * (Double(c.numLayers) - done)))
            }
            // Stages nest (a Hessian update inside a forward pass): each is charged its own time only.
            var innerSeconds = 0.0
            func timed<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
                var sw = Stopwatch()
                sw.reset()
                let outerInner = innerSeconds
                innerSeconds = 0
                let r = try body()
                let elapsed = sw.seconds
                let own = elapsed - innerSeconds
                innerSeconds = outerInner + elapsed
                entry.seconds[name, default: 0] += own
                stageTotals[name, default: 0] += own
                return r
            }

            if let rotation {
                timed("rotation") { L.rotate(rotation, config: c, threads: options.threads) }
            }
            if options.smooth {
                announce("smoothing search")
                let windows = (0..<min(options.smoothSamples, n)).map { UnsafePointer(x + $0 * t * h) }
                entry.smoothing = try timed("smoothing") {
                    try LayerSmoother(math: math, options: options).smooth(&L, inputs: windows)
                }
            }

            // The quantized linears as the rest of this layer's forward runs them.
            var ops = [CalibrationLinear?](repeating: nil, count: LayerWeights.names.count)
            func quantize(_ js: [Int], hessian: Hessian?) throws {
                let k = L.shapes[js[0]].k
                let factor = try hessian.map { h in
                    try timed("gptq factor") { try GPTQHessianFactor(hessian: h.matrix(), columns: k, options: gptqOptions, layerName: prefix + LayerWeights.names[js[0]]) }
                }
                for j in js {
                    let name = prefix + LayerWeights.names[j]
                    let (rows, cols) = L.shapes[j]
                    let result: GPTQResult = try timed(options.gptq ? "gptq quantize" : "rtn quantize") {
                        if let factor {
                            return try GPTQ.quantize(weight: L.w[j], rows: rows, columns: cols, factor: factor, options: gptqOptions, layerName: name)
                        }
                        return try RoundToNearest.quantize(weight: L.w[j], rows: rows, columns: cols, options: gptqOptions, layerName: name)
                    }
                    let packed = try QQQFormat.pack(result, layerName: name)
                    ops[j] = try CalibrationLinear(packed, kernels: options.forwardKernels, name: name)
                    L.w[j] = []  // only the quantized weights are used from here on (frees 0.8 GB per 7B layer)
                    try writer.add(name: name + ".qweight", dtype: .u8, shape: [rows, cols / 2], bytes: Data(packed.qweight))
                    try writer.add(name: name + ".s_channel", floats: packed.sChannel, shape: [rows], as: .f32)
                    if options.groupSize == 128 {
                        try writer.add(name: name + ".s_group", dtype: .f16, shape: [rows, (cols + 127) / 128],
                                       bytes: packed.sGroup.withUnsafeBytes { Data($0) })
                    }
                    if let b = L.bias[j] { try writer.add(name: name + ".bias", floats: b, shape: [rows], as: .f16) }
                    for w in result.warnings { log?("warning: \(w)") }
                    entry.linears.append(.init(name: name, rows: rows, columns: cols, gptqError: options.gptq ? result.loss : 0,
                                               percDamp: result.percDampUsed, warnings: result.warnings))
                    report.quantizedWeights += rows * cols
                }
            }
            let useGPTQ = options.gptq
            // q, k, v from the normed layer input.
            announce("q/k/v")
            let hQKV: Hessian? = useGPTQ ? Hessian(columns: h) : nil
            if let hQKV {
                try timed("hessian") {
                    for w in 0..<n {
                        xn.withUnsafeMutableBufferPointer { b in math.rmsNorm(x + w * t * h, weight: L.ln1, out: b.baseAddress!) }
                        try xn.withUnsafeBufferPointer { try hQKV.add(Array($0.prefix(t * h))) }
                    }
                }
            }
            try quantize([0, 1, 2], hessian: hQKV)
            // o_proj from the attention output of the quantized q, k, v.
            announce("o_proj")
            let hO: Hessian? = useGPTQ ? Hessian(columns: qd) : nil
            try timed("forward") {
                for w in 0..<n {
                    try xn.withUnsafeMutableBufferPointer { b in
                        let xw = b.baseAddress!
                        math.rmsNorm(x + w * t * h, weight: L.ln1, out: xw)
                        try math.attention(bias: L.bias, out: attn + w * t * qd) { q, k, v in
                            try ops[0]!.apply(xw, math: math, out: q)
                            try ops[1]!.apply(xw, math: math, out: k)
                            try ops[2]!.apply(xw, math: math, out: v)
                        }
                    }
                    if let hO { timed("hessian") { hO.add(x: attn + w * t * qd, tokens: t) } }
                }
            }
            try quantize([3], hessian: hO)
            // gate, up from the normed residual after attention.
            announce("gate/up")
            let hGU: Hessian? = useGPTQ ? Hessian(columns: h) : nil
            try timed("forward") {
                for w in 0..<n {
                    try proj.withUnsafeMutableBufferPointer { p in
                        try ops[3]!.apply(attn + w * t * qd, math: math, out: p.baseAddress!)
                        addInPlace(x + w * t * h, p.baseAddress!, count: t * h, threads: threads)
                    }
                    if let hGU {
                        xn.withUnsafeMutableBufferPointer { b in math.rmsNorm(x + w * t * h, weight: L.ln2, out: b.baseAddress!) }
                        timed("hessian") { xn.withUnsafeBufferPointer { hGU.add(x: $0.baseAddress!, tokens: t) } }
                    }
                }
            }
            try quantize([4, 5], hessian: hGU)
            // down from silu(gate) * up of the quantized gate/up.
            func swiglu(_ xn: UnsafePointer<Float>, up: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) throws {
                try ops[4]!.apply(xn, math: math, out: out)
                try ops[5]!.apply(xn, math: math, out: up)
                math.siluMul(gate: out, up: up)
            }
            announce("down")
            let hD: Hessian? = useGPTQ ? Hessian(columns: inter) : nil
            var act = [Float](repeating: 0, count: t * inter)
            var fp16Safe = [Bool](repeating: false, count: n)
            if let hD {
                try timed("forward") {
                    for w in 0..<n {
                        try xn.withUnsafeMutableBufferPointer { b in
                            math.rmsNorm(x + w * t * h, weight: L.ln2, out: b.baseAddress!)
                            try up.withUnsafeMutableBufferPointer { u in
                                try act.withUnsafeMutableBufferPointer { a in
                                    try swiglu(b.baseAddress!, up: u.baseAddress!, out: a.baseAddress!)
                                    timed("hessian") { hD.add(x: a.baseAddress!, tokens: t) }
                                    // fp16 holds |x| < 65504; a window beyond it is recomputed instead.
                                    fp16Safe[w] = maxMagnitude(a.baseAddress!, count: t * inter, threads: threads) < 65000
                                    if cacheDown && fp16Safe[w] { toF16(a.baseAddress!, downInputs + w * t * inter, count: t * inter) }
                                }
                            }
                        }
                    }
                }
            }
            try quantize([6], hessian: hD)
            // The next layer's inputs: this layer's output with every linear quantized (none after the last).
            announce("layer output")
            if li < c.numLayers - 1 {
              try timed("forward") {
                for w in 0..<n {
                    try xn.withUnsafeMutableBufferPointer { b in
                        try up.withUnsafeMutableBufferPointer { u in
                            try act.withUnsafeMutableBufferPointer { a in
                                if cacheDown && fp16Safe[w] {
                                    toF32(downInputs + w * t * inter, a.baseAddress!, count: t * inter)
                                } else {
                                    math.rmsNorm(x + w * t * h, weight: L.ln2, out: b.baseAddress!)
                                    try swiglu(b.baseAddress!, up: u.baseAddress!, out: a.baseAddress!)
                                    if fp16Safe[w] {  // the same values the cache would have held
                                        toF16(a.baseAddress!, u.baseAddress!, count: t * inter)
                                        toF32(u.baseAddress!, a.baseAddress!, count: t * inter)
                                    }
                                }
                                try proj.withUnsafeMutableBufferPointer { p in
                                    try ops[6]!.apply(a.baseAddress!, math: math, out: p.baseAddress!)
                                    addInPlace(x + w * t * h, p.baseAddress!, count: t * h, threads: threads)
                                }
                            }
                        }
                    }
                }
              }
              if !allFinite(x, count: n * t * h, threads: threads), let i = (0..<(n * t * h)).first(where: { !x[$0].isFinite }) {
                  throw QQQError.numerical("layer \(li) produced a non-finite activation (window \(i / (t * h))): the quantized model would be unusable")
              }
            }
            try writer.add(name: prefix + "input_layernorm.weight", floats: L.ln1, shape: [h], as: .f16)
            try writer.add(name: prefix + "post_attention_layernorm.weight", floats: L.ln2, shape: [h], as: .f16)
            let summary = entry.linears.map { String(format: "%@ %.3g", ($0.name.split(separator: ".").last.map(String.init) ?? $0.name) as NSString, $0.gptqError) }
            let stages = entry.seconds.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f", $0.key as NSString, $0.value) }
            let memory = "RSS \(formatBytes(MemoryUsage.residentBytes ?? 0)), peak \(formatBytes(MemoryUsage.peakResidentBytes ?? 0))"
            log?("layer \(li + 1)/\(c.numLayers): \(String(format: "%.1f", entry.seconds.values.reduce(0, +))) s (\(stages.joined(separator: ", ")); \(memory))" +
                 (entry.smoothing.isEmpty ? "" : "; smoothing t = " + entry.smoothing.map { String(format: "%@ %.2f (%d ch, %.1f s)", $0.group as NSString, $0.threshold, $0.scaledChannels, $0.seconds) }.joined(separator: ", ")) +
                 (options.gptq ? "; gptq error " + summary.joined(separator: ", ") : ""))
            report.layers.append(entry)
            if StageTimer.shared.enabled {
                log?("profile after layer \(li + 1): " + StageTimer.shared.report.map { String(format: "%@ %.2f s", $0.0 as NSString, $0.1) }.joined(separator: ", "))
            }
        }
        if let rotation {
            // lm_head := lm_head · diag(final norm) · Q (from the embeddings when they are tied); norm := 1.
            let g = try checkpoint.tensor("model.norm.weight", shape: [h]).toFloat32()
            let source = !c.tieWordEmbeddings && checkpoint.contains("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight"
            var head = try checkpoint.tensor(source, shape: [c.vocabSize, h]).toFloat32()
            head.withUnsafeMutableBufferPointer { m in
                rotation.rotateRows(m.baseAddress!, rows: c.vocabSize, ld: h, columnScales: g, threads: options.threads)
            }
            try writer.add(name: "model.norm.weight", floats: [Float](repeating: 1, count: h), shape: [h], as: .f16)
            try writer.add(name: "lm_head.weight", floats: head, shape: [c.vocabSize, h], as: .f16)
        } else {
            try writer.add(name: "model.norm.weight", floats: checkpoint.tensor("model.norm.weight", shape: [h]).toFloat32(), shape: [h], as: .f16)
            if !c.tieWordEmbeddings, checkpoint.contains("lm_head.weight") {
                try writer.add(name: "lm_head.weight", floats: checkpoint.tensor("lm_head.weight", shape: [c.vocabSize, h]).toFloat32(),
                               shape: [c.vocabSize, h], as: .f16)
            }
        }
        for (k, v) in stageTotals { report.stageSeconds[k] = v }

        // Files: weights, config with quantization_config, tokenizer files.
        try writer.write(to: output.file("model.safetensors").path, metadata: ["format": "pt", "quantizer": Self.version])
        let sizeAfter = writer.totalBytes
        try writeConfig(to: output.file("config.json"), calibration: calib)
        try output.copyPresent(StagedOutputFolder.tokenizerFiles, from: modelDirectory)
        report.sizeBeforeBytes = checkpoint.files.reduce(0) { $0 + $1.file.bytes.count }
        report.sizeAfterBytes = sizeAfter
        let quantizedBytes = report.layers.count > 0 ? sizeAfter - (c.vocabSize * h * 2) * (c.tieWordEmbeddings && !options.rotate ? 1 : 2) : 0
        report.bitsPerWeight = Double(quantizedBytes * 8) / Double(max(1, report.quantizedWeights))
        report.totalSeconds = total.seconds
        report.peakRSSBytes = MemoryUsage.peakResidentBytes ?? 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: output.file("quantize-report.json"))
        try output.commit()
        return report
    }

    private func writeConfig(to url: URL, calibration: CalibrationSet) throws {
        guard var object = try JSONSerialization.jsonObject(with: config.rawJSON) as? [String: Any] else {
            throw QQQError.badFile(path: config.path, reason: "not a JSON object")
        }
        let o = options
        let optionsJSON = try JSONSerialization.jsonObject(with: JSONEncoder().encode(o))
        object["torch_dtype"] = "float16"
        if o.rotate { object["tie_word_embeddings"] = false }  // a rotated lm_head is written beside the rotated table
        object["quantization_config"] = [
            "quant_method": "qqq", "wbits": 4, "group_size": o.groupSize,
            "checkpoint_format": "qqq-cpu: <linear>.qweight U8 [N, K/2] signed int4 (even k low nibble), .s_channel F32 [N], .s_group F16 [N, ceil(K/128)]",
            "meta": ["quantizer": [Self.version], "options": optionsJSON, "calibration": calibration.source,
                     "nsamples": calibration.nsamples, "seqlen": calibration.seqlen, "seed": calibration.seed,
                     "smoothing": o.smooth, "gptq": o.gptq, "rotation": o.rotate] as [String: Any],
        ] as [String: Any]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url)
    }
}
