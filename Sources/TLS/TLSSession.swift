internal import COpenSSL

/// A TLS session that a later connection to the same server can resume: the FTP data channel must resume the
/// control connection's session (vsftpd's `require_ssl_reuse`). OpenSSL does not refuse to resume a session under
/// another server name, so callers keep sessions per host and port.
/// @unchecked Sendable: an SSL_SESSION is immutable once issued and reference-counted with atomic counts.
@_spi(Internals) public final class TLSSession: @unchecked Sendable {
    let session: OpaquePointer

    /// Takes over one reference to `session`.
    init(taking session: OpaquePointer) {
        self.session = session
    }

    deinit { SSL_SESSION_free(session) }

    /// Whether OpenSSL would offer this session for resumption (a TLS 1.3 session needs its ticket).
    public var isResumable: Bool { SSL_SESSION_is_resumable(session) == 1 }

    /// TLS 1.3 sessions come as tickets that a server may accept only once.
    public var isSingleUse: Bool { SSL_SESSION_get_protocol_version(session) == cssl_tls1_3_version() }

    public var protocolVersion: String {
        switch SSL_SESSION_get_protocol_version(session) {
        case cssl_tls1_3_version(): return "TLSv1.3"
        case cssl_tls1_2_version(): return "TLSv1.2"
        case let other: return "0x\(String(other, radix: 16))"
        }
    }
}
