@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// Why an FTP session or upload failed. Never carries the password: commands print as `PASS ***`.
public enum FTPError: Error, Sendable, CustomStringConvertible {
    case invalidArgument(String)
    case connect(host: String, ReactorError)
    case tls(host: String, TLSError)
    /// The server refused a command: the command (password masked), the code and the server's words.
    case reply(command: String, code: Int, text: String)
    case protocolError(host: String, FTPProtocolError)
    case timeout(host: String, phase: String, milliseconds: Int)
    case connectionClosed(host: String, during: String)
    case dataConnection(host: String, reason: String)
    /// The server stored a different number of bytes than were sent.
    case sizeMismatch(path: String, sent: UInt64, stored: UInt64)
    /// The upload was stopped by its source (the download failed, the transform failed, the run was cancelled).
    case aborted(String)

    /// Worth another attempt later: temporary refusals (4xx), lost connections, timeouts.
    public var isTransient: Bool {
        switch self {
        case .reply(_, let code, _): return code >= 400 && code < 500
        case .connect, .timeout, .connectionClosed, .dataConnection, .sizeMismatch: return true
        case .tls(_, let error): return error.isTransient
        case .invalidArgument, .protocolError, .aborted: return false
        }
    }

    public var description: String {
        switch self {
        case .invalidArgument(let reason): return "invalid FTP argument: \(reason)"
        case .connect(let host, let error): return "FTP server \(host): \(error)"
        case .tls(let host, let error): return "FTP server \(host): \(error)"
        case .reply(let command, let code, let text): return "FTP server refused \(command): \(code) \(text)"
        case .protocolError(let host, let error): return "FTP server \(host) sent an invalid reply: \(error)"
        case .timeout(let host, let phase, let ms): return "FTP server \(host): no answer to \(phase) within \(ms) ms"
        case .connectionClosed(let host, let during): return "FTP server \(host) closed the connection during \(during)"
        case .dataConnection(let host, let reason): return "FTP data connection to \(host) failed: \(reason)"
        case .sizeMismatch(let path, let sent, let stored):
            return "FTP server stored \(stored) bytes for \(path) but \(sent) were sent"
        case .aborted(let reason): return "upload aborted: \(reason)"
        }
    }
}
