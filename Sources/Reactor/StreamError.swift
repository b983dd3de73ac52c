import Glibc

/// Why a byte stream broke: a cause at the socket, or the TLS layer's. Reactor cannot see the TLS module's own error,
/// so TLS hands its failures up as a `TLSFailure` that keeps what callers act on.
@_spi(Internals) public enum StreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer reset the connection (ECONNRESET, or EPIPE on a send).
    case reset(peer: String)
    /// A socket call failed with another errno (ETIMEDOUT after keep-alive probes, EHOSTUNREACH …).
    case socket(call: String, errno: Int32)
    /// The TLS layer failed: a record it could not read, a close without close_notify, or the layer below it.
    case tls(TLSFailure)

    /// A socket failure from the syscall layer, with ECONNRESET and EPIPE named for what they mean.
    init(_ error: ReactorError, peer: String) {
        switch error {
        case .syscall(_, let code) where code == ECONNRESET || code == EPIPE: self = .reset(peer: peer)
        case .syscall(let call, let code): self = .socket(call: call, errno: code)
        case .connectionReset(let peer): self = .reset(peer: peer)
        // A connected socket's own calls fail with an errno only; anything else is carried in words.
        default: self = .socket(call: "\(error)", errno: 0)
        }
    }

    /// The same cause as a `ReactorError`, for layers that report transport failures in those terms (nil for TLS).
    public var socketError: ReactorError? {
        switch self {
        case .reset(let peer): return .connectionReset(peer: peer)
        case .socket(let call, let code): return .syscall(call, errno: code)
        case .tls: return nil
        }
    }

    public var tlsFailure: TLSFailure? {
        if case .tls(let failure) = self { return failure }
        return nil
    }

    /// Worth another attempt on a new connection: a broken connection is; a certificate or protocol failure is not.
    public var isTransient: Bool {
        switch self {
        case .reset, .socket: return true
        case .tls(let failure): return failure.isTransient
        }
    }

    public var description: String {
        switch self {
        case .reset(let peer): return "connection reset by \(peer)"
        case .socket(let call, 0): return call
        case .socket(let call, let code): return "\(call) failed: \(Errno.describe(code))"
        case .tls(let failure): return failure.description
        }
    }
}

/// A TLS layer's failure as the layers above the stream see it: what kind, for which host, in words. The TLS module
/// makes these from its own `TLSError` (`TLSError.failure`).
public struct TLSFailure: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The context could not be set up.
        case configuration
        /// The certificate was not accepted.
        case verification
        /// The handshake failed for another reason (no shared cipher, an alert, a timeout, the peer leaving).
        case handshake
        /// The connection below TLS broke.
        case transport
        /// The peer closed without close_notify: what arrived may be truncated (RFC 8446 §6.1).
        case closedWithoutCloseNotify
        /// Corrupt or unexpected records after the handshake.
        case protocolError
    }

    public let kind: Kind
    /// The name the connection was made for (empty for a configuration failure).
    public let host: String
    public let isTransient: Bool
    public let description: String

    @_spi(Internals) public init(kind: Kind, host: String, isTransient: Bool, description: String) {
        self.kind = kind
        self.host = host
        self.isTransient = isTransient
        self.description = description
    }

    public var isVerificationFailure: Bool { kind == .verification }
}
