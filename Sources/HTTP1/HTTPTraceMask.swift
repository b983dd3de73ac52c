/// What `--trace` may show of a request or response head. Masked here, before any line reaches the trace sink:
/// query values (`?a=***`), credentials in URLs (as `HTTPURL.redacted`), and header values — except the few that
/// describe the body or where it moved, which support needs and which hold no secret.
@_spi(Internals) public enum HTTPTraceMask {
    /// Header fields whose values are shown (compared without case). `Location` is shown redacted like a URL.
    public static let shownHeaders: Set<String> = [
        "content-type", "content-length", "content-encoding", "transfer-encoding", "etag", "last-modified",
        "retry-after",
    ]

    /// `a=1&b&c=3` → `a=***&***&c=***`: the names stay (they say what was asked), the values go; an item with no `=`
    /// may be a bare token (`?APIKEY`), so it goes too. Empty items stay empty.
    public static func query(_ query: Substring) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            guard let equals = part.firstIndex(of: "=") else { return part.isEmpty ? "" : "***" }
            return String(part[..<equals]) + "=***"
        }.joined(separator: "&")
    }

    /// A request target: the origin form (`/path?query`) with its query masked, the absolute form (to a forward
    /// proxy) redacted like any URL, the authority form of CONNECT (`host:port`, no secret) as it is; anything else,
    /// which the encoder would not send, is not shown.
    public static func target(_ target: String) -> String {
        if target.hasPrefix("/") || target == "*" { return maskingQuery(target) }
        if let url = try? URLParser.parse(target) { return url.redacted }
        if !target.isEmpty, target.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) { return target }
        return "***"
    }

    /// `GET /a?b=c HTTP/1.1` → `GET /a?b=*** HTTP/1.1`.
    public static func requestLine(_ line: String) -> String {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return "***" }
        return "\(parts[0]) \(target(String(parts[1]))) \(parts[2])"
    }

    /// `Name: value` with the value masked unless the name is one of `shownHeaders`; `Location` redacted like a URL.
    public static func headerLine(name: String, value: String) -> String {
        let lower = name.lowercasedASCII()
        if shownHeaders.contains(lower) { return "\(name): \(value)" }
        if lower == "location" { return "\(name): \(location(value))" }
        return "\(name): ***"
    }

    /// A raw header line as sent (`Name: value`).
    public static func headerLine(_ line: String) -> String {
        guard let colon = line.firstIndex(of: ":") else { return "***" }
        let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        return headerLine(name: String(line[..<colon]), value: String(value))
    }

    /// A `Location` value: an absolute URL redacted, a network-path reference (`//user:pw@host/…`) likewise, a
    /// relative one with its query masked. One that does not parse (another scheme, a bad port) still loses its
    /// user information and query.
    public static func location(_ value: String) -> String {
        if let url = try? URLParser.parse(value) { return url.redacted }
        if value.hasPrefix("//"), let url = try? URLParser.parse("http:" + value) {
            return String(url.redacted.dropFirst("http:".count))
        }
        return maskingQuery(maskingUserInfo(value))
    }

    /// `scheme://user:pw@host/…` or `//user:pw@host/…` → the same with `***@`: whatever stands before the last `@`
    /// of the authority may be a credential.
    private static func maskingUserInfo(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let slash = bytes.indices.dropLast().first(where: { bytes[$0] == 0x2F && bytes[$0 + 1] == 0x2F }) else {
            return text
        }
        let start = slash + 2
        let end = bytes[start...].firstIndex { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 } ?? bytes.endIndex
        guard let at = bytes[start..<end].lastIndex(of: 0x40) else { return text }
        return String(decoding: bytes[..<start], as: UTF8.self) + "***" + String(decoding: bytes[at...], as: UTF8.self)
    }

    private static func maskingQuery(_ text: String) -> String {
        guard let question = text.firstIndex(of: "?") else { return text }
        let fragmentless = text[text.index(after: question)...].prefix { $0 != "#" }
        return text[..<question] + "?" + query(fragmentless)
    }
}
