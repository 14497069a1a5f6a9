import CQQQKernels
import Foundation

/// The instruction-set paths the kernels implement, from the most to the least capable.
public enum KernelPath: String, CaseIterable, Sendable, CustomStringConvertible {
    case avx512   // AVX-512 F/BW/VL (+VNNI for int8 when present)
    case avxvnni  // AVX2 + 256-bit VNNI
    case avx2     // AVX2 + FMA + F16C
    case portable // plain C / Swift, any CPU

    public var description: String { rawValue }
}

/// What this CPU supports, probed once.
public struct CPUFeatures: Sendable {
    public let avx2: Bool
    public let avxVNNI: Bool
    public let avx512: Bool
    public let avx512VNNI: Bool
    public let neon: Bool

    public static let host: CPUFeatures = {
        let bits = qqq_cpu_features()
        return CPUFeatures(
            avx2: bits & UInt32(QQQ_CPU_AVX2) != 0,
            avxVNNI: bits & UInt32(QQQ_CPU_AVXVNNI) != 0,
            avx512: bits & UInt32(QQQ_CPU_AVX512) != 0,
            avx512VNNI: bits & UInt32(QQQ_CPU_AVX512VNNI) != 0,
            neon: bits & UInt32(QQQ_CPU_NEON) != 0)
    }()

    /// True when this CPU can run `path`.
    public func supports(_ path: KernelPath) -> Bool {
        switch path {
        case .portable: return true
        case .avx2: return avx2
        case .avxvnni: return avx2 && avxVNNI
        case .avx512: return avx512
        }
    }

    /// Paths this CPU can run, best first.
    public var supportedPaths: [KernelPath] { KernelPath.allCases.filter { supports($0) } }

    /// A short list of flags for headers and logs, e.g. "AVX2 FMA F16C".
    public var summary: String {
        var parts: [String] = []
        if avx2 { parts.append("AVX2 FMA F16C") }
        if avxVNNI { parts.append("AVX-VNNI") }
        if avx512 { parts.append("AVX-512(F/BW/VL)") }
        if avx512VNNI { parts.append("AVX512-VNNI") }
        if neon { parts.append("NEON") }
        return parts.isEmpty ? "none" : parts.joined(separator: " ")
    }

    /// The CPU model name from /proc/cpuinfo (Linux), or "unknown".
    public static let modelName: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }()

    /// The largest CPU cache in bytes from sysfs (Linux: "32768K", "260M"), or nil where unknown.
    public static let lastLevelCacheBytes: Int? = {
        var best: Int?
        for index in 0..<8 {
            guard let text = try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cache/index\(index)/size", encoding: .utf8) else { continue }
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let unit: Int = t.hasSuffix("K") ? 1 << 10 : t.hasSuffix("M") ? 1 << 20 : 1
            guard let value = Int(t.filter(\.isNumber)) else { continue }
            best = max(best ?? 0, value * unit)
        }
        return best
    }()
}

/// The path the kernels use: the best the CPU supports, unless `QQQ_KERNEL_PATH` (or a caller,
/// e.g. `--path`) forces one. Forcing a path the CPU lacks is an error, never an illegal instruction.
public enum KernelDispatch {
    /// Parses a path name, checking the CPU supports it.
    public static func resolve(_ name: String) throws -> KernelPath {
        guard let path = KernelPath(rawValue: name.lowercased()) else {
            throw KernelError.unknownPath(name)
        }
        guard CPUFeatures.host.supports(path) else { throw KernelError.unsupportedPath(path) }
        return path
    }

    /// The default path: `QQQ_KERNEL_PATH` if set (and valid), else the best supported.
    public static func defaultPath() throws -> KernelPath {
        if let forced = ProcessInfo.processInfo.environment["QQQ_KERNEL_PATH"], !forced.isEmpty {
            return try resolve(forced)
        }
        return CPUFeatures.host.supportedPaths.first ?? .portable
    }
}

/// Errors a kernel entry point can report (bad shapes, non-finite input, unsupported path).
public enum KernelError: Error, CustomStringConvertible, Equatable {
    case unknownPath(String)
    case unsupportedPath(KernelPath)
    case badShape(String)
    case nonFinite(String)

    public var description: String {
        switch self {
        case let .unknownPath(name):
            return "unknown kernel path '\(name)' (expected one of: \(KernelPath.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .unsupportedPath(path):
            return "kernel path '\(path)' needs CPU features this machine lacks (it has: \(CPUFeatures.host.summary))"
        case let .badShape(message): return "bad shape: \(message)"
        case let .nonFinite(message): return "non-finite input: \(message)"
        }
    }
}
