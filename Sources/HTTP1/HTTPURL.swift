/// An http or https URL as the client needs it (RFC 3986 subset): scheme, optional userinfo for Basic auth, host
/// (a name, IPv4, or IPv6 given in brackets), port, path and query. The fragment is dropped: it never goes on the wire.
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable {
        case http
        case https

        public var defaultPort: Int { self == .http ? 80 : 443 }
    }

    public var scheme: Scheme
    public var user: String?
    public var password: String?
    /// Without brackets, also for IPv6.
    public var host: String
    public var port: Int
    /// Percent-encoded as on the wire; never empty ("/" at least).
    public var path: String
    /// Percent-encoded, without the "?".
    public var query: String?

    @_spi(Internals) public var isIPv6: Bool { host.contains(":") }

    /// What goes after the method in a request line (origin form, RFC 9112 §3.2.1).
    @_spi(Internals) public var requestTarget: String { query.map { "\(path)?\($0)" } ?? path }

    /// What goes in the Host header: the port only when it is not the scheme's default.
    @_spi(Internals) public var authority: String {
        let name = isIPv6 ? "[\(host)]" : host
        return port == scheme.defaultPort ? name : "\(name):\(port)"
    }

    /// Scheme, host and port: what a connection can be reused for, and what redirects compare.
    @_spi(Internals) public var origin: String { "\(scheme.rawValue)://\(authority.lowercasedASCII())" }

    /// The URL without secrets, for logs and errors: no password, and query values replaced by `***`.
    public var redacted: String {
        var text = "\(scheme.rawValue)://"
        if let user { text += "\(user)\(password == nil ? "" : ":***")@" }
        text += authority + path
        if let query { text += "?" + HTTPTraceMask.query(Substring(query)) }
        return text
    }

    /// The full URL with its secrets. Use `redacted` for anything a person may read.
    public var description: String {
        var text = "\(scheme.rawValue)://"
        if let user {
            text += URLParser.percentEncode(user, keeping: URLParser.userinfoSafe)
            if let password { text += ":" + URLParser.percentEncode(password, keeping: URLParser.userinfoSafe) }
            text += "@"
        }
        return text + authority + requestTarget
    }

    /// The target of a reference found in this URL's context, such as a redirect's Location (RFC 3986 §5.2).
    @_spi(Internals) public func resolving(_ reference: String) throws(URLParseError) -> HTTPURL {
        try URLParser.resolve(reference, against: self)
    }
}

// In an extension, so that the parser can build a URL with the synthesized memberwise initializer.
extension HTTPURL {
    public init(_ text: String) throws(URLParseError) {
        self = try URLParser.parse(text)
    }
}

public struct URLParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let url: String
    public let reason: String

    /// Control characters in the URL are shown as '?': a CR LF in a configured URL (or a server's Location) must not
    /// start a new line wherever the message is printed.
    public var description: String {
        let shown = String(
            String.UnicodeScalarView(url.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? "?" : $0 }))
        return "invalid URL '\(shown)': \(reason)"
    }
}
