import Foundation

/// Process memory as the kernel reports it (Linux /proc/self/status), for reports.
public enum MemoryUsage {
    /// Peak resident set size in bytes (VmHWM), or nil where unavailable.
    public static var peakResidentBytes: Int? { field("VmHWM:") }

    /// Current resident set size in bytes (VmRSS), or nil where unavailable.
    public static var residentBytes: Int? { field("VmRSS:") }

    private static func field(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let digits = line.dropFirst(key.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first
            if let digits, let kb = Int(digits) { return kb * 1024 }
        }
        return nil
    }
}

/// Human-readable byte counts (MiB/GiB, binary units).
public func formatBytes(_ bytes: Int) -> String {
    let b = Double(bytes)
    let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
    if b >= gib { return String(format: "%.2f GiB", b / gib) }
    if b >= mib { return String(format: "%.1f MiB", b / mib) }
    if b >= kib { return String(format: "%.1f KiB", b / kib) }
    return "\(bytes) B"
}
