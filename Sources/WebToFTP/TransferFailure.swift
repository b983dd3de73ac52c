@_spi(Internals) import CSVStream
@_spi(Internals) import FTP
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// Why an attempt failed, classified for the retry policy.
public struct TransferFailure: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public let transient: Bool
    /// The server's Retry-After, in seconds, when it gave one.
    public let retryAfter: Int64?
    /// The temporary file this attempt uploaded to, when it may still be on the server (its clean-up could not be
    /// confirmed: the connection was lost, or the DELE failed). The pipeline deletes it with a later session.
    public var orphan: String?
    /// The run was cancelled (a signal, the task awaiting `Web2FTP.run`) before this source had its outcome.
    public var interrupted = false
    /// The FTP destination is unusable (the run's first login failed for good: refused, TLS refused or not
    /// trusted): the source was not tried, or stopped, and no further login was made.
    public var destinationUnusable = false
    /// Body bytes received from the web server before the source failed, over all its attempts: a failure part-way
    /// through a large file still counts in the run's `bytes_down`.
    public var bytesIn: UInt64 = 0

    /// As the log and the summary JSON name it: `interrupted`, `destination`, `transient` or `permanent`.
    public var failureClass: String {
        interrupted ? "interrupted" : destinationUnusable ? "destination" : transient ? "transient" : "permanent"
    }

    @_spi(Internals) public init(reason: String, transient: Bool, retryAfter: Int64?, orphan: String? = nil) {
        self.reason = reason
        self.transient = transient
        self.retryAfter = retryAfter
        self.orphan = orphan
    }

    public var description: String { reason }
}

/// What a published source looked like.
public struct TransferResult: Sendable {
    public var path: String
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    /// The CSV transform's counters, when the source has PARAMS or OUTPUT.
    public var csv: CSVCounters?
    /// Rows written, when the CSV was transformed.
    public var rowsOut: Int? { csv?.rowsOut }
    public var finalURL: String
    public var status: Int
    public var httpTLS: String?
    public var ftpDataResumed: Bool?
    public var sha256: String
    public var warnings: [String]
    /// Set when nothing was published because the source has not changed since its last publication (see the state
    /// file): `not-modified` (the web server said 304) or `identical` (the same bytes came again).
    public var unchanged: String?
    var etag: String?
    var lastModified: String?
    /// The temporary upload of an `identical` source, when its deletion could not be confirmed.
    var orphan: String?
    /// For an unchanged source: the size of the publication it kept.
    var recordedBytes: UInt64?
    /// The bytes a resumed upload did not download or upload again: where it went on (REST).
    var resumedBytes: UInt64?
}
