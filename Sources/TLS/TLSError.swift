@_spi(Internals) import Reactor

/// Why a certificate was not accepted, in the terms a person can act on.
public enum VerificationFailure: Equatable, Sendable, CustomStringConvertible {
    /// The chain does not lead to a CA we trust (a private CA needs `--cacert`).
    case unknownCA(detail: String)
    /// The certificate is valid but for other names.
    case nameMismatch(expected: String)
    case expired
    case notYetValid
    case other(code: Int, detail: String)

    public var description: String {
        switch self {
        case .unknownCA(let detail):
            return "certificate issuer is not trusted (\(detail)); pass the CA with --cacert if it is a private one"
        case .nameMismatch(let expected):
            return "certificate does not match the name '\(expected)'"
        case .expired:
            return "certificate has expired"
        case .notYetValid:
            return "certificate is not yet valid (check the clock)"
        case .other(let code, let detail):
            return "certificate rejected: \(detail) (X509 error \(code))"
        }
    }
}

/// Everything the TLS layer can fail with; `host` is the name the connection was made for.
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The context could not be set up (bad CA file, key, protocol settings …).
    case configuration(String)
    case verificationFailed(host: String, reason: VerificationFailure)
    /// The handshake failed for a reason other than the certificate (no shared cipher, protocol version, alert …).
    case handshakeFailed(host: String, reason: String)
    case handshakeTimeout(host: String, milliseconds: Int)
    /// The connection ended (FIN) before the handshake finished: the network, or a server going away.
    case closedDuringHandshake(host: String)
    /// The transport below TLS broke.
    case transport(host: String, ReactorError)
    /// The peer closed the connection without close_notify: what was received may be truncated (RFC 8446 §6.1).
    case closedWithoutCloseNotify(host: String)
    /// Corrupt or unexpected records after the handshake.
    case protocolError(host: String, reason: String)
    /// The TLS connection this one runs inside failed (TLS to an https proxy, carrying the tunnel to the origin).
    case layerBelow(TLSFailure)

    /// Worth another attempt: the connection broke or timed out. A certificate or protocol failure is not: it
    /// would fail the same way again.
    public var isTransient: Bool {
        switch self {
        case .transport, .handshakeTimeout, .closedDuringHandshake, .closedWithoutCloseNotify: return true
        case .configuration, .verificationFailed, .handshakeFailed, .protocolError: return false
        case .layerBelow(let failure): return failure.isTransient
        }
    }

    public var description: String {
        switch self {
        case .configuration(let reason):
            return "TLS set-up failed: \(reason)"
        case .verificationFailed(let host, let reason):
            return "TLS verification of \(host) failed: \(reason)"
        case .handshakeFailed(let host, let reason):
            return "TLS handshake with \(host) failed: \(reason)"
        case .handshakeTimeout(let host, let ms):
            return "TLS handshake with \(host) timed out after \(ms) ms"
        case .closedDuringHandshake(let host):
            return "TLS handshake with \(host) failed: the peer closed the connection mid-handshake"
        case .transport(let host, let error):
            return "connection to \(host) failed under TLS: \(error)"
        case .closedWithoutCloseNotify(let host):
            return "\(host) closed the TLS connection without close_notify: the data may be truncated"
        case .protocolError(let host, let reason):
            return "TLS error from \(host): \(reason)"
        case .layerBelow(let failure):
            return failure.description
        }
    }

    /// The error as the layers above a stream see it (`StreamEnd.failed(.tls(…))`): its kind, host and words.
    public var failure: TLSFailure {
        let kind: TLSFailure.Kind
        let host: String
        switch self {
        case .layerBelow(let failure): return failure
        case .configuration: (kind, host) = (.configuration, "")
        case .verificationFailed(let name, _): (kind, host) = (.verification, name)
        case .handshakeFailed(let name, _), .handshakeTimeout(let name, _), .closedDuringHandshake(let name):
            (kind, host) = (.handshake, name)
        case .transport(let name, _): (kind, host) = (.transport, name)
        case .closedWithoutCloseNotify(let name): (kind, host) = (.closedWithoutCloseNotify, name)
        case .protocolError(let name, _): (kind, host) = (.protocolError, name)
        }
        return TLSFailure(kind: kind, host: host, isTransient: isTransient, description: description)
    }
}
