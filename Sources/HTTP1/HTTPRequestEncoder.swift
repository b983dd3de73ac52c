/// A request head as bytes (RFC 9112 §3). Refuses CR, LF and NUL anywhere in names and values, and names that are
/// not tokens, so that no header can smuggle a second line.
@_spi(Internals) public enum HTTPRequestEncoder {
    public struct InvalidHeader: Error, Equatable, Sendable, CustomStringConvertible {
        public let name: String
        public let reason: String
        public var description: String { "invalid request header '\(name)': \(reason)" }
    }

    /// `target` is the origin form (`/path?query`), or the absolute form when talking to a forward proxy.
    /// `headers` come after the standard ones; a header given there replaces the standard one of the same name.
    public static func encode(
        method: String, target: String, authority: String, userAgent: String, headers: HTTPHeaders = HTTPHeaders()
    ) throws(InvalidHeader) -> [UInt8] {
        guard ASCII.isToken(method) else { throw InvalidHeader(name: "(method)", reason: "'\(method)' is not a token") }
        guard !target.utf8.contains(where: { $0 <= 32 || $0 == 127 }) else {
            throw InvalidHeader(name: "(target)", reason: "the request target holds spaces or control characters")
        }
        var standard = HTTPHeaders([
            ("Host", authority), ("User-Agent", userAgent), ("Accept", "*/*"),
            // Compressed bytes are never handed on as if they were the CSV: none is asked for unless the caller decodes
            // (HTTPTask then asks for gzip).
            ("Accept-Encoding", "identity"), ("Connection", "keep-alive"),
        ])
        for field in headers.fields { standard.remove(field.name) }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += "\(method) \(target) HTTP/1.1\r\n".utf8
        for field in standard.fields + headers.fields {
            guard ASCII.isToken(field.name) else {
                throw InvalidHeader(name: field.name, reason: "the name is not a token")
            }
            guard !field.value.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) else {
                throw InvalidHeader(name: field.name, reason: "the value holds CR, LF or NUL")
            }
            out += field.name.utf8
            out += ": ".utf8
            out += field.value.utf8
            out += "\r\n".utf8
        }
        out += "\r\n".utf8
        return out
    }

    /// `Basic` credentials (RFC 7617) for a URL's or a proxy's userinfo.
    public static func basicAuthorization(user: String, password: String) -> String {
        "Basic " + Base64.encode(Array("\(user):\(password)".utf8))
    }
}

enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(index + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
