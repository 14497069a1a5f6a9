import Foundation
import QQQCore
import QQQKernels

/// `qqq bench`: GEMM speed of W4A8 against FP32, FP16-weight, W8A8 and W4A16 at real model shapes.
enum BenchCommand: Command {
    static let spec = CommandSpec(
        name: "bench",
        overview: "GEMM speed of the W4A8 kernels against FP32, FP16, W8A8 and W4A16.",
        options: [
            OptionSpec(name: "model", valueName: "dir", help: "Benchmark the linear shapes of this model's config.json."),
            OptionSpec(name: "shape", valueName: "KxN", help: "A shape: K inputs x N outputs, e.g. 4096x11008.", repeatable: true),
            OptionSpec(name: "m", valueName: "list", help: "Token counts.", defaultValue: "1,16,64,128,512,2048"),
            OptionSpec(name: "threads", short: "t", valueName: "list", help: "Thread counts.",
                       defaultValue: "1,\(ProcessInfo.processInfo.activeProcessorCount)"),
            OptionSpec(name: "kernels", valueName: "list", help: "Kernels: \(BenchKernel.allCases.map(\.rawValue).joined(separator: ",")).",
                       defaultValue: "all"),
            OptionSpec(name: "path", valueName: "list", help: "CPU paths to compare side by side (avx512, avxvnni, avx2, portable), or 'all'.",
                       defaultValue: "the best this CPU has"),
            OptionSpec(name: "hot", help: "Keep weights cache-resident (one copy) instead of cycling through copies larger than the L3."),
            OptionSpec(name: "min-time", valueName: "s", help: "Seconds of timed repeats per cell, after a warm-up.", defaultValue: "0.3"),
            OptionSpec(name: "peak", help: "Measure the machine's FP32 FMA, int8 MAC and memory ceilings first, and report each cell's fraction (compute ceilings re-measured around each cell)."),
            OptionSpec(name: "json", help: "Print JSON instead of the table."),
            OptionSpec(name: "csv", help: "Print CSV instead of the table."),
        ],
        discussion: """
        DEFAULT SHAPES:
          LLaMA-2-7B 4096x4096, 4096x11008, 11008x4096 and SmolLM2-135M 576x576, 576x1536, 1536x576.
        Each cell: a warm-up call, then timed calls until --min-time has passed (median and half-IQR
        spread); integer kernels include the per-token activation quantization. GOPS = 2*M*N*K per second.
        """)

    static func run(_ args: ParsedArguments) throws {
        var shapes: [GemmBench.Shape] = []
        for text in args.strings("shape") {
            let parts = text.lowercased().split(separator: "x")
            guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), k > 0, n > 0 else {
                throw UsageError(message: "'--shape' expects KxN (e.g. 4096x11008), got '\(text)'")
            }
            shapes.append(.init(k: k, n: n, label: "\(k)x\(n)"))
        }
        if let dir = args.string("model") {
            shapes += GemmBench.shapes(of: try ModelConfig.load(directory: dir))
        }
        if shapes.isEmpty { shapes = GemmBench.defaultShapes }
        for s in shapes where s.k % 32 != 0 {
            throw QQQError.invalidInput("shape \(s.k)x\(s.n): K must be a multiple of 32 for the int4/int8 formats")
        }
        let tokens = try args.intList("m") ?? [1, 16, 64, 128, 512, 2048]
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = try args.intList("threads", range: 1...1024) ?? Array(Set([1, cores])).sorted()
        var kernels = BenchKernel.allCases
        if let list = args.string("kernels"), list != "all" {
            kernels = try list.split(separator: ",").map { name in
                guard let k = BenchKernel(rawValue: String(name)) else {
                    throw UsageError(message: "unknown kernel '\(name)' (expected: \(BenchKernel.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return k
            }
        }
        var paths = [try KernelDispatch.defaultPath()]
        if let list = args.string("path") {
            let names = list == "all" ? CPUFeatures.host.supportedPaths.map(\.rawValue) : list.split(separator: ",").map(String.init)
            paths = try names.map { name in
                do { return try KernelDispatch.resolve(name) } catch let e as KernelError {
                    if case .unknownPath = e { throw UsageError(message: e.description) }
                    throw QQQError.unsupported(e.description)
                }
            }
        }
        let minSeconds = try args.double("min-time") ?? 0.3
        let options = GemmBench.Options(shapes: shapes, tokens: tokens, threads: threads, kernels: kernels, paths: paths,
                                        hot: args.flag("hot"), minSeconds: max(0.01, minSeconds),
                                        adjacentCeilings: args.flag("peak"))

        var peaks: [Int: MachinePeaks] = [:]
        if args.flag("peak") {
            for t in threads {
                Diagnostics.write("measuring machine ceilings with \(t) thread(s)...\n")
                peaks[t] = MachinePeaks.measure(threads: t, path: paths[0])
            }
        }
        var clock = Stopwatch()
        clock.reset()
        let progress = ProgressLine(label: "cell", total: shapes.count * kernels.count * paths.count * tokens.count * threads.count)
        let cells = try GemmBench.run(options) { done, total, cell in
            let elapsed = clock.seconds
            progress.update(done, detail: "\(cell.shape.k)x\(cell.shape.n) M=\(cell.m) t=\(cell.threads) \(cell.kernel.rawValue) \(String(format: "%.1f GOPS", cell.gops))",
                            elapsed: elapsed, eta: elapsed / Double(done) * Double(total - done))
        }
        progress.finish()
        let header = BenchHeader(cpu: CPUFeatures.modelName, features: CPUFeatures.host.summary, paths: paths.map(\.rawValue),
                                 threads: threads, build: buildConfiguration, weights: args.flag("hot") ? "hot (cache-resident)" : "cycled through copies > \(options.coldBytes >> 20) MiB",
                                 peaks: peaks.keys.sorted().map { peaks[$0]! })
        if args.flag("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            emit(String(decoding: try encoder.encode(BenchJSON(header: header, cells: cells)), as: UTF8.self))
        } else if args.flag("csv") {
            emit("k,n,m,threads,path,kernel,median_ms,spread,gops,weight_gbs,vs_fp32,vs_fp16,copies")
            for c in cells {
                emit([String(c.shape.k), String(c.shape.n), String(c.m), String(c.threads), c.path, c.kernel.rawValue,
                      String(format: "%.4f", c.timing.median * 1e3), String(format: "%.3f", c.timing.spread),
                      String(format: "%.2f", c.gops), String(format: "%.2f", c.weightGBs),
                      c.speedupVsFP32.map { String(format: "%.3f", $0) } ?? "", c.speedupVsFP16.map { String(format: "%.3f", $0) } ?? "",
                      String(c.copies)].joined(separator: ","))
            }
        } else {
            BenchTable.print(header: header, cells: cells, peaks: peaks)
        }
    }

    static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }
}

struct BenchHeader: Encodable {
    let cpu: String
    let features: String
    let paths: [String]
    let threads: [Int]
    let build: String
    let weights: String
    let peaks: [MachinePeaks]
}

struct BenchJSON: Encodable {
    let header: BenchHeader
    let cells: [GemmBench.Cell]
}
