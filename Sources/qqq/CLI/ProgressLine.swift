import Foundation

/// A progress line on stderr: "[i/N] detail, elapsed, ETA". Redrawn in place on a terminal,
/// one line per update otherwise (logs stay readable in CI).
final class ProgressLine {
    let label: String
    let total: Int
    private let isTTY = isatty(STDERR_FILENO) != 0

    init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    func update(_ step: Int, detail: String, elapsed: Double, eta: Double) {
        let line = "\(label) \(step)/\(total): \(detail), elapsed \(Self.clock(elapsed)), ETA \(Self.clock(eta))"
        Diagnostics.write(isTTY ? "\r\u{1B}[K" + line : line + "\n")
    }

    func finish() { if isTTY { Diagnostics.write("\n") } }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
