@_exported import CSVStream
@_exported import FTP
@_exported import HTTP1
@_exported import Reactor
@_exported import TLS

/// web2ftp's library: everything the command-line tool does, for embedding. It grows with the protocol clients and
/// the pipeline; today it carries the engine (Reactor, TLS) and the product's identity.
public enum WebToFTP {
    public static let version = "0.1.0"
    /// Sent as User-Agent by the HTTP client.
    public static let userAgent = "web2ftp/\(version)"
}
