/// Number separators per field: with `thousands: "."` and `decimal: ","`, `1.234,50` becomes `1234.50`. Only values
/// that are numbers in that notation change (streaming cannot know a column's type); digits are never re-typed.
enum NumberNotation {
    /// Appends the plain form of `value` to `out` and returns true when `value` is a number in the notation and
    /// something changed; otherwise leaves `out` as it was and returns false.
    static func rewrite(
        _ value: Slice<UnsafeBufferPointer<UInt8>>, decimal: UInt8, thousands: UInt8?, into out: inout ByteWriter
    ) -> Bool {
        let mark = out.count
        var bytes = value
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            out.append(sign)
            bytes.removeFirst()
        }
        var group = 0
        var digits = 0
        var sawThousands = false
        var changed = false
        func undo(_ out: inout ByteWriter) -> Bool {
            out.removeSubrange(mark...)
            return false
        }
        while let byte = bytes.first, byte != decimal {
            if byte >= 48 && byte <= 57 {
                out.append(byte)
                group += 1
                digits += 1
            } else if byte == thousands {
                // Groups after a separator have exactly three digits; the first group has one to three.
                guard group >= 1 && group <= 3 && (!sawThousands || group == 3) else { return undo(&out) }
                sawThousands = true
                group = 0
                changed = true
            } else {
                return undo(&out)
            }
            bytes.removeFirst()
        }
        guard digits > 0, !sawThousands || group == 3 else { return undo(&out) }
        if bytes.first == decimal {
            bytes.removeFirst()
            guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return undo(&out) }
            out.append(UInt8(ascii: "."))
            out += bytes
            if decimal != UInt8(ascii: ".") { changed = true }
        }
        return changed ? true : undo(&out)
    }
}
