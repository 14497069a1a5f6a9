import Foundation

/// Helpers to read JSONSerialization output strictly. On Linux a JSON `true` and `1` both come
/// back as NSNumber and `1 is Bool` holds, so numbers are told apart by their stored type.
enum JSONValue {
    /// True if `v` came from a JSON `true`/`false`.
    static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return v is Bool }
        return String(cString: n.objCType) == "c"
    }

    /// The value as Int if it is a JSON integer literal within Int range (not a bool, not `3.0`).
    static func strictInt(_ v: Any) -> Int? {
        guard let n = v as? NSNumber, !isBool(v) else { return nil }
        switch String(cString: n.objCType) {
        case "i", "s", "l", "q": return n.intValue
        case "I", "S", "L", "Q":
            let u = n.uint64Value
            return u <= UInt64(Int.max) ? Int(u) : nil
        default: return nil
        }
    }

    /// The value as Int if it is an integer, also accepting integral floats like `3.0`
    /// (some config writers emit those).
    static func lenientInt(_ v: Any) -> Int? {
        if let i = strictInt(v) { return i }
        guard let n = v as? NSNumber, !isBool(v) else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    /// The value as Double if it is a JSON number (not a bool).
    static func double(_ v: Any) -> Double? {
        guard let n = v as? NSNumber, !isBool(v) else { return nil }
        return n.doubleValue
    }

    /// The value as Bool if it is a JSON `true`/`false`.
    static func bool(_ v: Any) -> Bool? {
        guard isBool(v) else { return nil }
        return (v as? NSNumber)?.boolValue ?? (v as? Bool)
    }

    /// Short rendering of a JSON value for error messages.
    static func describe(_ v: Any) -> String {
        if isBool(v) { return (bool(v) ?? false) ? "true" : "false" }
        if v is NSNull { return "null" }
        if let s = v as? String { return "\"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\"" }
        if let n = v as? NSNumber { return "\(n)" }
        if v is [Any] { return "an array" }
        if v is [String: Any] { return "an object" }
        return "\(v)"
    }

    /// Escapes a string as a JSON string literal (with quotes).
    static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
        return out
    }
}
