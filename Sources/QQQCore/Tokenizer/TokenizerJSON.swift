import Foundation

/// Small accessors over `JSONSerialization` output, which on Linux mixes Swift and NS types.
enum TokenizerJSON {
    static func int(_ any: Any?) -> Int? {
        if let n = any as? Int { return n }
        if let n = any as? NSNumber { return n.intValue }
        return nil
    }

    static func bool(_ any: Any?, default value: Bool) -> Bool {
        if let b = any as? Bool { return b }
        if let n = any as? NSNumber { return n.boolValue }
        return value
    }

    static func string(_ any: Any?) -> String? { any as? String }

    static func object(_ any: Any?) -> [String: Any]? {
        if any is NSNull { return nil }
        return any as? [String: Any]
    }

    /// The parsed items of a `{"type": "Sequence", key: [...]}` component (normalizer, pre-tokenizer,
    /// decoder), with a one-line error naming the component when the list or an item is malformed.
    static func sequence<T>(_ json: [String: Any], key: String, component: String, file: String,
                            parse: ([String: Any]) throws -> T) throws -> [T] {
        guard let list = json[key] as? [Any] else {
            throw QQQError.badFile(path: file, reason: "\(component) Sequence without '\(key)'")
        }
        return try list.map { item in
            guard let o = object(item) else {
                throw QQQError.badFile(path: file, reason: "\(component) Sequence item is not an object")
            }
            return try parse(o)
        }
    }

    /// Scalars of a string as the pipeline works on them.
    static func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map { $0.value } }

    /// The `{"String": "..."}` / `{"Regex": "..."}` pattern objects of Replace and Split.
    enum Pattern { case string(String), regex(String) }

    static func pattern(_ any: Any?) -> Pattern? {
        guard let o = object(any) else { return nil }
        if let s = o["String"] as? String { return .string(s) }
        if let r = o["Regex"] as? String { return .regex(r) }
        return nil
    }
}

extension String {
    /// Builds a String from unicode scalar values (invalid ones become U+FFFD).
    init<S: Sequence>(scalarValues: S) where S.Element == UInt32 {
        var out = String.UnicodeScalarView()
        for v in scalarValues { out.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
        self = String(out)
    }
}
