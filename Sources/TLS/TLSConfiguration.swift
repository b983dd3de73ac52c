/// How a TLS context behaves. Defaults are the safe ones: TLS 1.2 or newer, the peer verified against the system's
/// CA store and the expected name.
public struct TLSConfiguration: Sendable {
    public enum Version: Sendable {
        case tls12
        case tls13
    }

    public enum Verification: Sendable, Equatable {
        /// The peer's chain must lead to a trusted CA and name the host we asked for.
        case full
        /// No check at all. Only for when a user explicitly asks for it (`--insecure`); callers log a warning.
        case insecureNoVerification
    }

    public var verification: Verification = .full
    /// Trust the system's CAs: OpenSSL's hashed directory (/etc/ssl/certs, or SSL_CERT_DIR), each CA read when a chain
    /// needs it; the bundle file (SSL_CERT_FILE) only where no hashed directory exists or when named outside one.
    public var trustSystemStore = true
    /// A PEM file of further CAs, *added* to the system store, so that public HTTPS sources and a privately signed
    /// FTPS server work in one run.
    public var additionalCAFile: String?
    /// Further CAs as PEM text (one certificate or several, concatenated), added to the trust as `additionalCAFile`
    /// is: for a CA that comes from a secret store or a bundle rather than a file.
    public var additionalCAPEM: [UInt8]?
    public var minimumVersion: Version = .tls12
    /// nil: the newest the library supports.
    public var maximumVersion: Version?
    /// Key-exchange groups in order of preference. P-256 leads because vsftpd and pure-ftpd offer nothing else, and a
    /// client leading with X25519 pays a HelloRetryRequest on every handshake with them (SERVERS.md).
    @_spi(Internals) public var groups = "P-256:X25519:P-384:P-521"
    /// Server side only (tests' own servers): the certificate chain and its key, PEM files.
    @_spi(Internals) public var certificateChainFile: String?
    @_spi(Internals) public var privateKeyFile: String?

    public init() {}

    public static func client(
        additionalCAFile: String? = nil, additionalCAPEM: [UInt8]? = nil, verification: Verification = .full,
        maximumVersion: Version? = nil
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.additionalCAFile = additionalCAFile
        configuration.additionalCAPEM = additionalCAPEM
        configuration.verification = verification
        configuration.maximumVersion = maximumVersion
        return configuration
    }

    @_spi(Internals) public static func server(
        certificateChainFile: String, privateKeyFile: String, maximumVersion: Version? = nil
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration()
        configuration.certificateChainFile = certificateChainFile
        configuration.privateKeyFile = privateKeyFile
        configuration.maximumVersion = maximumVersion
        configuration.verification = .insecureNoVerification  // servers here do not ask for client certificates
        return configuration
    }
}
