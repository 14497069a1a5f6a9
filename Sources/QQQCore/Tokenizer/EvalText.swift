/// The GPTQ/QQQ evaluation text rule for WikiText-2 style files: split into lines, each keeping its
/// "\n"; a whitespace-only line becomes ""; the rows are joined with "\n\n" (the Hugging Face
/// `wikitext-2-raw-v1` rows, `"\n\n".join(rows)`).
public enum EvalText {
    public static func joinRows(_ raw: String) -> String {
        var rows: [Substring] = []
        var start = raw.startIndex
        var i = raw.startIndex
        while i < raw.endIndex {
            let next = raw.index(after: i)
            if raw[i] == "\n" {
                rows.append(raw[start..<next])
                start = next
            }
            i = next
        }
        if start < raw.endIndex { rows.append(raw[start...]) }
        return rows.map { $0.allSatisfy(\.isWhitespace) ? "" : String($0) }.joined(separator: "\n\n")
    }
}
