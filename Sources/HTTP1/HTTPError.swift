@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// Why a download failed, with what a retry policy needs to classify it. URLs in here are redacted.
public enum HTTPError: Error, Sendable, CustomStringConvertible {
    public enum TimeoutPhase: String, Sendable {
        case connect
        case idle
        case total
    }

    case invalidURL(URLParseError)
    case invalidRequest(String)
    /// Resolve or connect failed (DNS, refused, unreachable, connect timeout): the `ReactorError` says which.
    case connect(url: String, ReactorError)
    case tls(url: String, TLSError)
    case timeout(url: String, phase: TimeoutPhase, milliseconds: Int)
    /// The connection broke mid-response.
    case connectionLost(url: String, reason: String)
    /// The body ended early: before its Content-Length, or before the last chunk.
    case truncated(url: String, HTTPParseError)
    /// The server's bytes are not valid HTTP/1.1.
    case protocolError(url: String, HTTPParseError)
    /// A final status outside 2xx. `retryAfter` in seconds, from `Retry-After` (either form).
    case status(url: String, code: Int, reason: String, retryAfter: Int64?)
    case redirect(url: String, reason: String)
    /// The body is encoded in a way the caller does not decode (it asked for identity, or for gzip).
    case unsupportedContentEncoding(url: String, encoding: String)
    case proxy(url: String, reason: String)
    case cancelled

    /// Worth another attempt: the same request may well succeed later.
    public var isTransient: Bool {
        switch self {
        case .connect, .timeout, .connectionLost, .truncated:
            return true
        case .tls(_, let error):
            return error.isTransient
        case .status(_, let code, _, _):
            return code == 408 || code == 429 || code >= 500
        case .proxy:
            return true
        case .invalidURL, .invalidRequest, .protocolError, .redirect, .unsupportedContentEncoding, .cancelled:
            return false
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let error): return "\(error)"
        case .invalidRequest(let reason): return "invalid request: \(reason)"
        case .connect(let url, let error): return "\(url): \(error)"
        case .tls(let url, let error): return "\(url): \(error)"
        case .timeout(let url, let phase, let ms):
            let what = [
                "connect": "connecting", "idle": "no data arrived for", "total": "the whole download took over",
            ]
            return "\(url): timed out (\(what[phase.rawValue]!) \(ms) ms)"
        case .connectionLost(let url, let reason): return "\(url): connection lost: \(reason)"
        case .truncated(let url, let error): return "\(url): truncated download: \(error.detail)"
        case .protocolError(let url, let error): return "\(url): invalid HTTP response: \(error)"
        case .status(let url, let code, let reason, let retryAfter):
            let retry = retryAfter.map { ", Retry-After \($0) s" } ?? ""
            return "\(url): HTTP \(code) \(reason)\(retry)"
        case .redirect(let url, let reason): return "\(url): redirect refused: \(reason)"
        case .unsupportedContentEncoding(let url, let encoding):
            return
                "\(url): the body is encoded as '\(encoding)', which web2ftp does not decode (it decodes gzip and deflate)"
        case .proxy(let url, let reason): return "\(url): proxy: \(reason)"
        case .cancelled: return "cancelled"
        }
    }
}
