import Foundation

/// Writes to stderr: progress, warnings and errors never mix with results on stdout.
enum Diagnostics {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func warning(_ message: String) { write("warning: \(message)\n") }

    static func error(_ message: String) { write("Error: \(message)\n") }
}

/// Results on stdout, flushed line by line so pipes see them promptly.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
