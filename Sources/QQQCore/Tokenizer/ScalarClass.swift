/// The character classes the pre-tokenizer patterns use, as Oniguruma (the regex engine of
/// Hugging Face `tokenizers`) defines them for Unicode: \p{L} and \p{N} are general categories,
/// \s is the White_Space property. Computed per unicode scalar, never per Character.
enum ScalarClass: UInt8 {
    case other = 0, letter = 1, number = 2, space = 3

    /// Classes of the 128 ASCII scalars, the common case.
    private static let ascii: [ScalarClass] = (0..<128).map { classify(UInt32($0)) }

    @inline(__always)
    static func of(_ v: UInt32) -> ScalarClass {
        if v < 128 { return ascii[Int(v)] }
        return classify(v)
    }

    static func classify(_ v: UInt32) -> ScalarClass {
        guard let s = Unicode.Scalar(v) else { return .other }
        let p = s.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Rust's `char::is_numeric` (categories Nd, Nl, No), used by the Digits pre-tokenizer.
    @inline(__always)
    static func isNumeric(_ v: UInt32) -> Bool { of(v) == .number }

    /// Rust's `char::is_whitespace` (White_Space).
    @inline(__always)
    static func isWhitespace(_ v: UInt32) -> Bool { of(v) == .space }
}
