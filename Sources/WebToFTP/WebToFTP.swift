@_exported import CSVStream
@_exported import Compression
@_exported import FTP
@_exported import HTTP1
@_spi(Internals) import HTTP1
@_exported import Reactor
@_exported import TLS

/// web2ftp's library: everything the command-line tool does, for embedding. Named unlike its module (`WebToFTP`), so
/// that module-qualified names such as `WebToFTP.HTTPClient` resolve.
public enum Web2FTP {
    public static let version = ProductVersion.current
    /// Sent as User-Agent by the HTTP client.
    public static let userAgent = ProductVersion.userAgent

    /// Everything wrong with a config.json text, as `web2ftp manual` would refuse it (none: it loads). Date
    /// placeholders are rendered at `runStart` to find two sources publishing one path.
    public static func check(configText: String, runStart: LocalTime = .now()) -> [ConfigProblem] {
        do {
            _ = try ConfigLoader.load(configText, runStart: runStart)
            return []
        } catch {
            return error.problems
        }
    }
}
