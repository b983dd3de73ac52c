@_spi(Internals) import Reactor

/// Proxies from the environment, as curl reads them: `HTTPS_PROXY`/`https_proxy` for https URLs,
/// `HTTP_PROXY`/`http_proxy` for http URLs (the lower-case form first, as curl does), and `NO_PROXY`/`no_proxy`.
public struct ProxySettings: Sendable, Equatable {
    public var httpProxy: HTTPURL?
    public var httpsProxy: HTTPURL?
    /// Host names, domain suffixes (`.example.com` or `example.com`), IP literals, or `*` for everything.
    public var noProxy: [String]

    public init(httpProxy: HTTPURL? = nil, httpsProxy: HTTPURL? = nil, noProxy: [String] = []) {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.noProxy = noProxy
    }

    /// Reads the variables from `environment` (pass the process environment). A malformed proxy URL is an error,
    /// not something to ignore: the user meant to go through it.
    public init(environment: [String: String]) throws(URLParseError) {
        func value(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        func proxyURL(_ text: String?) throws(URLParseError) -> HTTPURL? {
            guard let text else { return nil }
            // curl takes "host:port" without a scheme as http.
            return try HTTPURL(text.containsUTF8("://") ? text : "http://" + text)
        }
        httpProxy = try proxyURL(value("http_proxy", "HTTP_PROXY"))
        httpsProxy = try proxyURL(value("https_proxy", "HTTPS_PROXY"))
        noProxy = (value("no_proxy", "NO_PROXY") ?? "").split(separator: ",").map {
            String($0).trimmingOWS().lowercasedASCII()
        }.filter { !$0.isEmpty }
    }

    /// The proxy for `url`, or nil to connect directly. Loopback is not special: like curl, only NO_PROXY bypasses.
    @_spi(Internals) public func proxy(for url: HTTPURL) -> HTTPURL? {
        guard let proxy = url.scheme == .https ? httpsProxy : httpProxy else { return nil }
        return bypasses(url.host) ? nil : proxy
    }

    func bypasses(_ host: String) -> Bool {
        let host = host.lowercasedASCII()
        for entry in noProxy {
            if entry == "*" { return true }
            var pattern = entry
            if pattern.hasPrefix("[") && pattern.hasSuffix("]") { pattern = String(pattern.dropFirst().dropLast()) }
            if pattern.hasPrefix(".") { pattern.removeFirst() }
            if host == pattern || host.hasSuffix("." + pattern) { return true }
        }
        return false
    }
}
