@_spi(Internals) import FTP
@_spi(Internals) import Reactor

/// FTPHOST as an operator writes it: `host`, `host:port`, `[IPv6]:port`, or a URL naming the security too,
/// `ftpes://host[:port]` (explicit FTPS), `ftps://host[:port]` (implicit FTPS, port 990) or `ftp://host[:port]`
/// (plain FTP). A URL carries no user, password or path: credentials in a URL end up in process lists and shell
/// histories (FTPUSER/FTPPASS or ~/.netrc hold them), and the directory is FTPTARGET's. Pure, so it is table-tested.
@_spi(Internals) public struct FTPHost: Equatable, Sendable {
    public var host: String
    /// nil: the security's default (21, or 990 for implicit TLS).
    public var port: Int?
    /// What the URL's scheme says; nil when FTPHOST is not a URL.
    public var scheme: FTPSecurity?

    static let schemes: [(String, FTPSecurity)] = [("ftp", .none), ("ftpes", .explicitTLS), ("ftps", .implicitTLS)]

    /// The host, or every problem, worded with FTPHOST shown as `shown(text)` (user info masked).
    public static func parse(_ text: String) -> Result<FTPHost, ConfigError> {
        let shown = "FTPHOST \"\(Self.shown(text))\""
        var problems: [String] = []
        var rest = Substring(text)
        var scheme: FTPSecurity?
        if let separator = text.firstUTF8Range(of: "://") {
            let name = text[..<separator.lowerBound].lowercased()
            rest = text[separator.upperBound...]
            if let known = schemes.first(where: { $0.0 == name }) {
                scheme = known.1
            } else {
                problems.append(
                    "\(shown): unknown scheme '\(ConfigLoader.printable(name))' (expected ftp, ftpes or ftps)")
            }
            if let slash = rest.firstIndex(of: "/") {
                if rest[slash...] != "/" {
                    problems.append("\(shown): no path here (the remote directory is FTPTARGET)")
                }
                rest = rest[..<slash]
            }
        }
        if let at = rest.lastIndex(of: "@") {
            problems.append(
                "\(shown): no user or password in FTPHOST (it ends up in process lists): use FTPUSER and FTPPASS, "
                    + "or ~/.netrc")
            rest = rest[rest.index(after: at)...]
        }
        var host = String(rest)
        var port: Int?
        if rest.hasPrefix("[") {
            if let close = rest.firstIndex(of: "]") {
                host = String(rest[rest.index(after: rest.startIndex)..<close])
                let after = rest[rest.index(after: close)...]
                if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? -1 } else if !after.isEmpty { port = -1 }
            } else {
                problems.append("\(shown): unclosed '['")
            }
        } else if let colon = rest.firstIndex(of: ":"), rest.filter({ $0 == ":" }).count == 1 {
            host = String(rest[..<colon])
            port = Int(rest[rest.index(after: colon)...]) ?? -1
        }
        if let port, !(1...65535).contains(port) { problems.append("\(shown): invalid port") }
        if host.isEmpty && scheme != nil { problems.append("\(shown): no host") }
        guard problems.isEmpty else { return .failure(ConfigError(problems)) }
        return .success(FTPHost(host: host, port: port, scheme: scheme))
    }

    /// The security to use: `--ftp-tls` or FTPTLS (`given`) and the URL's scheme must agree, and plain FTP is only
    /// ever chosen by naming it in FTPTLS or `--ftp-tls` too: nothing is upgraded or downgraded behind the
    /// operator's back. nil `given`: explicit FTPS unless the scheme says implicit.
    public func security(given: FTPSecurity?, from origin: String) -> Result<FTPSecurity, ConfigError> {
        guard let scheme else { return .success(given ?? .explicitTLS) }
        let url = Self.schemes.first { $0.1 == scheme }!.0 + "://"
        if let given, given != scheme {
            return .failure(
                ConfigError([
                    "FTPHOST \(url)… means \(Self.describe(scheme)) but \(origin) says \(given.rawValue): make them agree"
                ]))
        }
        if scheme == .none && given == nil {
            return .failure(
                ConfigError([
                    "FTPHOST ftp://… is plain FTP (the password in clear): set FTPTLS=none or --ftp-tls none to mean "
                        + "it, or use ftpes:// (explicit FTPS)"
                ]))
        }
        return .success(scheme)
    }

    static func describe(_ security: FTPSecurity) -> String {
        switch security {
        case .explicitTLS: "explicit FTPS"
        case .implicitTLS: "implicit FTPS"
        case .none: "plain FTP"
        }
    }

    /// FTPHOST fit for a message: control characters masked and, everything before an `@` in its host part (a user, a
    /// password) shown as `***`.
    public static func shown(_ text: String) -> String {
        let start = text.firstUTF8Range(of: "://")?.upperBound ?? text.startIndex
        let authorityEnd = text[start...].firstIndex(of: "/") ?? text.endIndex
        guard let at = text[start..<authorityEnd].lastIndex(of: "@") else { return ConfigLoader.printable(text) }
        return ConfigLoader.printable(String(text[..<start]) + "***" + text[at...])
    }
}
