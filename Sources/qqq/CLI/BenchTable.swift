import Foundation
import QQQCore
import QQQKernels

/// The llama-bench style markdown table of `qqq bench`.
enum BenchTable {
    static func print(header h: BenchHeader, cells: [GemmBench.Cell], peaks: [Int: MachinePeaks]) {
        emit("qqq bench: \(h.cpu) [\(h.features)], path \(h.paths.joined(separator: ",")), threads \(h.threads.map(String.init).joined(separator: ",")), \(h.build) build, weights \(h.weights)")
        for p in h.peaks {
            emit(String(format: "ceilings (%d thread%@): FP32 FMA %.1f GFLOP/s, int8 MAC u8s8 %.1f GMAC/s (%.1f GOPS), s8s8 %.1f GMAC/s (%.1f GOPS), memory read %.1f GB/s",
                        p.threads, p.threads == 1 ? "" : "s", p.fp32GFLOPs, p.int8GMACs, 2 * p.int8GMACs,
                        p.int8SignedGMACs, 2 * p.int8SignedGMACs, p.memoryGBs))
            // Ceilings are measured on the first path; the VNNI int8 kernels run one vpdpbusd for both forms.
            let int8Path = h.paths.first.flatMap(KernelPath.init(rawValue:)).map { IntKernels.implementedPath($0) }
            if int8Path == .avxvnni || int8Path == .avx512 {
                emit("% ceil: int8 kernels against vpdpbusd (\(int8Path!), u8s8 and s8s8 alike), float kernels against FP32 FMA")
            } else {
                emit("% ceil: w4a8 against u8s8 (vpmaddubsw+vpmaddwd), w8a8 and w4a8-g128 against s8s8 (+vpsignb), float kernels against FP32 FMA")
            }
        }
        if cells.contains(where: { $0.adjacentCeiling != nil }) {
            emit("% ceil: against the compute ceiling re-measured just before and after each cell (mean of the two)")
        }
        emit("")
        var columns = ["shape KxN", "M", "thr", "kernel", "ms", "±%", "GOPS", "GB/s", "x FP32", "x FP16"]
        if !peaks.isEmpty { columns += ["% ceil", "% mem"] }
        emit("| " + columns.joined(separator: " | ") + " |")
        emit("|" + columns.map { _ in "---:" }.joined(separator: "|") + "|")
        for c in cells {
            var row = ["\(c.shape.k)x\(c.shape.n)" + (h.paths.count > 1 ? " \(c.path)" : ""), "\(c.m)", "\(c.threads)", c.kernel.rawValue,
                       String(format: "%.3f", c.timing.median * 1e3), String(format: "%.1f", c.timing.spread * 100),
                       String(format: "%.1f", c.gops), String(format: "%.1f", c.weightGBs),
                       c.speedupVsFP32.map { String(format: "%.2f", $0) } ?? "-", c.speedupVsFP16.map { String(format: "%.2f", $0) } ?? "-"]
            if let p = peaks[c.threads] {
                let ceiling = c.adjacentCeiling ?? p.ceiling(c.kernel.sequence)
                row += [String(format: "%.0f", 100 * c.gops / ceiling), String(format: "%.0f", 100 * c.weightGBs / p.memoryGBs)]
            } else if !peaks.isEmpty {
                row += ["-", "-"]
            }
            emit("| " + row.joined(separator: " | ") + " |")
        }
    }
}
