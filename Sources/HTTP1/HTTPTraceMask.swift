/// What `--trace` may show of a request or response head. Masked here, before any line reaches the trace sink:
/// query values (`?a=***`), credentials in URLs (as `HTTPURL.redacted`), and header values — except the few that
/// describe the body or where it moved, which support needs and which hold no secret.
public enum HTTPTraceMask {
    /// Header fields whose values are shown (compared without case). `Location` is shown redacted like a URL.
    public static let shownHeaders: Set<String> = [
        "content-type", "content-length", "content-encoding", "transfer-encoding", "etag", "last-modified",
        "retry-after",
    ]

    /// `a=1&b&c=3` → `a=***&b&c=***`: the names stay (they say what was asked), the values go.
    public static func query(_ query: Substring) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            guard let equals = part.firstIndex(of: "=") else { return String(part) }
            return String(part[..<equals]) + "=***"
        }.joined(separator: "&")
    }

    /// A request target: the origin form (`/path?query`) with its query masked, the absolute form (to a forward
    /// proxy) redacted like any URL; anything else, which the encoder would not send, is not shown.
    public static func target(_ target: String) -> String {
        if target.hasPrefix("/") || target == "*" { return maskingQuery(target) }
        if let url = try? URLParser.parse(target) { return url.redacted }
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
    /// relative one with its query masked.
    public static func location(_ value: String) -> String {
        if let url = try? URLParser.parse(value) { return url.redacted }
        if value.hasPrefix("//"), let url = try? URLParser.parse("http:" + value) {
            return String(url.redacted.dropFirst("http:".count))
        }
        return maskingQuery(value)
    }

    private static func maskingQuery(_ text: String) -> String {
        guard let question = text.firstIndex(of: "?") else { return text }
        let fragmentless = text[text.index(after: question)...].prefix { $0 != "#" }
        return text[..<question] + "?" + query(fragmentless)
    }
}
