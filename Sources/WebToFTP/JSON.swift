/// A JSON value (RFC 8259), as the config file holds it. Object keys keep their order of appearance.
@_spi(Internals) public enum JSONValue: Equatable, Sendable {
    case string(String)
    case number(Double, integer: Int?)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a, _), .number(let b, _)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a.elementsEqual(b) { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public var kind: String {
        switch self {
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "true/false"
        case .null: return "null"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// Where and why a document is not JSON.
@_spi(Internals) public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let reason: String
    public var description: String { "line \(line), column \(column): \(reason)" }
}

/// A small strict JSON parser: no trailing commas, no comments, duplicate keys refused (a config with two entries of
/// the same name is a mistake), nesting capped.
@_spi(Internals) public struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    private static let maxDepth = 64
    /// The keys from the document's top to the value being read.
    private var path: [String] = []
    /// Where the keys of the first two levels stand (a config's sources and their keys), for messages.
    private var keyPositions: [[String]: (line: Int, column: Int)] = [:]

    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parseWithPositions(text).value
    }

    /// The value, and the line and column of each key of the first two levels, by its path (`["source"]`,
    /// `["source", "URL"]`).
    static func parseWithPositions(
        _ text: String
    ) throws(JSONError) -> (value: JSONValue, keys: [[String]: (line: Int, column: Int)]) {
        var parser = JSONParser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return (value, parser.keyPositions)
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func error(_ reason: String) -> JSONError {
        let (line, column) = position(of: index)
        return JSONError(line: line, column: column, reason: reason)
    }

    /// Line and column (in characters) of the byte at `offset`, both from 1.
    private func position(of offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == 10 {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = peek, byte == 32 || byte == 9 || byte == 10 || byte == 13 { index += 1 }
    }

    private mutating func expect(_ literal: String) throws(JSONError) {
        let expected = Array(literal.utf8)
        guard bytes.count - index >= expected.count, Array(bytes[index..<(index + expected.count)]) == expected else {
            throw error("expected '\(literal)'")
        }
        index += expected.count
    }

    private mutating func value() throws(JSONError) -> JSONValue {
        guard let byte = peek else { throw error("unexpected end of the document") }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw error("unexpected character '\(String(decoding: [byte], as: UTF8.self))'")
        }
    }

    /// What objects and arrays share: the opening bracket (one level deeper), then the elements, each read by
    /// `element`, separated by commas, up to `close`.
    private mutating func elements(
        closedBy close: UInt8, _ element: (inout JSONParser) throws(JSONError) -> Void
    ) throws(JSONError) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
        index += 1
        skipSpace()
        if peek == close {
            index += 1
            return
        }
        while true {
            skipSpace()
            try element(&self)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case close:
                index += 1
                return
            default: throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'")
            }
        }
    }

    private mutating func object() throws(JSONError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        try elements(closedBy: UInt8(ascii: "}")) { (parser) throws(JSONError) in
            guard parser.peek == UInt8(ascii: "\"") else { throw parser.error("expected a key in double quotes") }
            let keyStart = parser.index
            let key = try parser.string()
            if members.contains(where: { $0.key == key }) {
                parser.index = keyStart
                throw parser.error("duplicate key \"\(key)\"")
            }
            parser.skipSpace()
            guard parser.peek == UInt8(ascii: ":") else { throw parser.error("expected ':' after the key") }
            parser.index += 1
            parser.skipSpace()
            parser.path.append(key)
            defer { parser.path.removeLast() }
            if parser.path.count <= 2 { parser.keyPositions[parser.path] = parser.position(of: keyStart) }
            members.append((key, try parser.value()))
        }
        return .object(members)
    }

    private mutating func array() throws(JSONError) -> JSONValue {
        var items: [JSONValue] = []
        try elements(closedBy: UInt8(ascii: "]")) { (parser) throws(JSONError) in items.append(try parser.value()) }
        return .array(items)
    }

    private mutating func string() throws(JSONError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw error("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = peek else { throw error("unterminated string") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        try expect("\\u")
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw error("lone low surrogate")
                    }
                    out += Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    throw error("invalid escape '\\\(String(decoding: [escape], as: UTF8.self))'")
                }
            case 0..<32:
                index -= 1  // point at the character itself
                throw error("control character in a string (escape it)")
            default:
                out.append(byte)
            }
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("expected four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 48...57: digit = UInt32(byte - 48)
            case 65...70: digit = UInt32(byte - 55)
            case 97...102: digit = UInt32(byte - 87)
            default: throw error("expected four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func number() throws(JSONError) -> JSONValue {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, first >= 48 && first <= 57 else { throw error("invalid number") }
        if first == 48 {
            index += 1
            if let next = peek, next >= 48 && next <= 57 { throw error("leading zeros are not allowed") }
        }
        while let byte = peek, byte >= 48 && byte <= 57 { index += 1 }
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let byte = peek, byte >= 48 && byte <= 57 else { throw error("invalid number") }
            while let byte = peek, byte >= 48 && byte <= 57 { index += 1 }
        }
        if let e = peek, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if let sign = peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek, byte >= 48 && byte <= 57 else { throw error("invalid number") }
            while let byte = peek, byte >= 48 && byte <= 57 { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let double = Double(text) else { throw error("invalid number") }
        return .number(double, integer: isInteger ? Int(text) : nil)
    }
}

extension JSONValue {
    /// The value as compact JSON, keys in their order (the state file's fingerprint of PARAMS and OUTPUT).
    var compactText: String {
        switch self {
        case .string(let text): return JSONWriter.string(text)
        case .number(let value, let integer): return integer.map { "\($0)" } ?? "\(value)"
        case .bool(let value): return "\(value)"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.compactText).joined(separator: ",") + "]"
        case .object(let fields): return JSONWriter.object(fields.map { ($0.key, $0.value.compactText) })
        }
    }
}
