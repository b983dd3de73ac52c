@_spi(Internals) import Reactor

/// Parsing and resolving `HTTPURL`s. Lenient where browsers and curl are (spaces and non-ASCII bytes in path and
/// query are percent-encoded), strict where a mistake would send a request somewhere unintended (host, port).
enum URLParser {
    static func parse(_ text: String) throws(URLParseError) -> HTTPURL {
        func fail(_ reason: String) -> URLParseError { URLParseError(url: redact(text), reason: reason) }
        let trimmed = text.trimmingOWS()
        guard !trimmed.utf8.contains(where: { $0 < 32 || $0 == 127 }) else {
            throw fail("it contains control characters")
        }
        guard let schemeEnd = trimmed.utf8.firstIndex(of: UInt8(ascii: ":")) else {
            throw fail("no scheme: expected http:// or https://")
        }
        let schemeText = String(trimmed[..<schemeEnd]).lowercasedASCII()
        guard let scheme = HTTPURL.Scheme(rawValue: schemeText) else {
            throw fail("unsupported scheme '\(schemeText)': only http and https are supported")
        }
        let rest = trimmed[trimmed.index(after: schemeEnd)...]
        guard rest.hasPrefix("//") else { throw fail("expected '//' after '\(schemeText):'") }
        var url = try parseAfterScheme(String(rest.dropFirst(2)), scheme: scheme, original: text)
        url.path = normalizePath(url.path)
        return url
    }

    /// Authority, path and query of a URL whose scheme is known.
    private static func parseAfterScheme(_ text: String, scheme: HTTPURL.Scheme, original: String) throws(URLParseError)
        -> HTTPURL
    {
        func fail(_ reason: String) -> URLParseError { URLParseError(url: redact(original), reason: reason) }
        var remainder = Substring(text)
        if let hash = remainder.firstIndex(of: "#") { remainder = remainder[..<hash] }
        let authorityEnd = remainder.firstIndex { $0 == "/" || $0 == "?" } ?? remainder.endIndex
        var authority = remainder[..<authorityEnd]
        let afterAuthority = remainder[authorityEnd...]

        var user: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                user = percentDecode(String(userinfo[..<colon]))
                password = percentDecode(String(userinfo[userinfo.index(after: colon)...]))
            } else {
                user = percentDecode(String(userinfo))
            }
        }

        var host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("unclosed '[' in the host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            guard host.containsUTF8(":"), host.utf8.allSatisfy({ isHexDigit($0) || $0 == 58 || $0 == 46 }) else {
                throw fail("'[\(host)]' is not an IPv6 address")
            }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after ']'") }
                portText = after.dropFirst()
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            guard !host.isEmpty else { throw fail("no host") }
            guard host.utf8.allSatisfy({ isHostCharacter($0) }) else {
                throw fail("the host '\(host)' has characters a host name cannot have")
            }
            host = host.lowercasedASCII()
        }
        var port = scheme.defaultPort
        if let portText, !portText.isEmpty {
            guard portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let value = Int(portText), (1...65535).contains(value)
            else { throw fail("invalid port '\(portText)'") }
            port = value
        }

        var path = String(afterAuthority)
        var query: String?
        if let question = path.firstIndex(of: "?") {
            query = percentEncode(String(path[path.index(after: question)...]), keeping: querySafe)
            path = String(path[..<question])
        }
        path = percentEncode(path, keeping: pathSafe)
        if path.isEmpty { path = "/" }
        return HTTPURL(
            scheme: scheme, user: user, password: password, host: host, port: port, path: path, query: query)
    }

    /// RFC 3986 §5.2.2, for http(s) bases.
    static func resolve(_ reference: String, against base: HTTPURL) throws(URLParseError) -> HTTPURL {
        let text = reference.trimmingOWS()
        if let colon = text.firstIndex(of: ":"),
            text[..<colon].allSatisfy({ $0.isLetter || $0 == "+" || $0 == "-" || $0 == "." }),
            !text[..<colon].isEmpty
        {
            return try parse(text)  // absolute
        }
        if text.hasPrefix("//") {
            var url = try parseAfterScheme(String(text.dropFirst(2)), scheme: base.scheme, original: text)
            url.path = normalizePath(url.path)
            return url
        }
        var result = base
        result.user = base.user
        result.password = base.password
        var rest = Substring(text)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var pathPart = rest
        var query: String?
        if let question = rest.firstIndex(of: "?") {
            pathPart = rest[..<question]
            query = percentEncode(String(rest[rest.index(after: question)...]), keeping: querySafe)
        }
        let encodedPath = percentEncode(String(pathPart), keeping: pathSafe)
        if encodedPath.isEmpty {
            result.query = query ?? base.query
            return result
        }
        if encodedPath.hasPrefix("/") {
            result.path = normalizePath(encodedPath)
        } else {
            let directory = base.path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
                .joined(separator: "/")
            result.path = normalizePath(directory + "/" + encodedPath)
        }
        result.query = query
        return result
    }

    /// Removes "." and ".." segments (RFC 3986 §5.2.4).
    static func normalizePath(_ path: String) -> String {
        guard path.containsUTF8("/.") || path.hasPrefix(".") else { return path }
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment {
            case ".":
                if isLast { output.append("") }
            case "..":
                if output.count > 1 { output.removeLast() }
                if isLast { output.append("") }
            default:
                output.append(segment)
            }
        }
        let joined = output.joined(separator: "/")
        return joined.hasPrefix("/") ? joined : "/" + joined
    }

    // MARK: characters

    static func isHexDigit(_ byte: UInt8) -> Bool { HTTPResponseParser.hexDigit(byte) != nil }

    static func isHostCharacter(_ byte: UInt8) -> Bool {
        ASCII.isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "_")
    }

    /// unreserved + sub-delims + ":" "@" "/" and "%" (already-encoded text stays as it is).
    static let pathSafe: Set<UInt8> = Set("-._~!$&'()*+,;=:@/%".utf8)
    static let querySafe: Set<UInt8> = Set("-._~!$&'()*+,;=:@/?%".utf8)
    static let userinfoSafe: Set<UInt8> = Set("-._~!$&'()*+,;=".utf8)

    static func percentEncode(_ text: String, keeping safe: Set<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if ASCII.isAlphanumeric(byte) || safe.contains(byte) {
                out.append(byte)
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func percentDecode(_ text: String) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%"), bytes.count >= 2,
                let high = HTTPResponseParser.hexDigit(bytes[bytes.startIndex]),
                let low = HTTPResponseParser.hexDigit(bytes[bytes.startIndex + 1])
            {
                out.append(high << 4 | low)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A URL as typed, with any password hidden: error messages must not carry it.
    static func redact(_ text: String) -> String {
        guard let colonSlashSlash = text.utf8.indices.first(where: { text.utf8[$0...].starts(with: "://".utf8) }) else {
            return text
        }
        let afterScheme = text[text.utf8.index(colonSlashSlash, offsetBy: 3)...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else { return text }
        let userinfo = afterScheme[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
