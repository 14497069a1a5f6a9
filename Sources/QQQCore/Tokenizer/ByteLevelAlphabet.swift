/// GPT-2's reversible byte <-> unicode map: printable bytes stand for themselves, the other
/// bytes (controls, space, 0x7F-0xA0, 0xAD) become U+0100 onwards in byte order, so every
/// byte string has a printable, whitespace-free spelling that a BPE vocabulary can hold.
enum ByteLevelAlphabet {
    /// byte -> unicode scalar value.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// unicode scalar value -> byte, for the 256 scalars of the alphabet.
    static let scalarToByte: [UInt32: UInt8] = {
        var map = [UInt32: UInt8]()
        for (b, s) in byteToScalar.enumerated() { map[s] = UInt8(b) }
        return map
    }()
}
