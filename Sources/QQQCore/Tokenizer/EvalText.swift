/// Forms the evaluation text from a raw WikiText file the way GPTQ/QQQ do
/// (`"\n\n".join(load_dataset("wikitext", ...)["text"])`).
public enum EvalText {
    /// Splits `raw` into lines on "\n" (each keeping its "\n"; a final piece without one is a line
    /// too), turns whitespace-only lines into "", and joins the rows with "\n\n".
    public static func joinRows(_ raw: String) -> String {
        var rows: [Substring] = []
        var lineStart = raw.utf8.startIndex
        var i = lineStart
        let utf8 = raw.utf8
        while i != utf8.endIndex {
            let next = utf8.index(after: i)
            if utf8[i] == 0x0A {
                rows.append(Substring(raw[lineStart..<next]))
                lineStart = next
            }
            i = next
        }
        if lineStart != utf8.endIndex { rows.append(Substring(raw[lineStart..<utf8.endIndex])) }
        var out = String()
        out.reserveCapacity(raw.utf8.count + 2 * rows.count)
        for (n, row) in rows.enumerated() {
            if n > 0 { out += "\n\n" }
            // Python's str.strip() == "" test: whitespace-only rows become empty.
            // (Python's str.isspace also counts the separators U+001C...U+001F.)
            if row.unicodeScalars.allSatisfy({ $0.properties.isWhitespace || (0x1C...0x1F).contains($0.value) }) {
                continue
            }
            out += row
        }
        return out
    }
}
