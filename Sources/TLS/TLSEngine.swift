internal import COpenSSL
@_spi(Internals) import Reactor

/// One TLS connection's state machine over OpenSSL, doing no I/O of its own: each operation says whether it finished,
/// needs more input, or failed. A BIO of our own (TLSEngine+BIO.swift) keeps OpenSSL away from the socket (its socket
/// BIO writes without MSG_NOSIGNAL) without copying ciphertext through memory BIOs: OpenSSL reads it from where the
/// stream below delivered it (`lend`) and writes it straight to that stream (`transport`), which queues what the kernel
/// does not take. Without a transport (tests, handshakes in memory) ciphertext goes in with `feed` and comes out with
/// `takeOutput`.
@_spi(Internals) public final class TLSEngine {
    public enum Status: Equatable {
        case complete
        case wantInput
        case failed(TLSError)
    }

    public enum ReadResult: Equatable {
        case bytes(Int)
        case wantInput
        /// The peer sent close_notify: a clean end of its data.
        case closed
        case failed(TLSError)
    }

    let ssl: OpaquePointer
    private let context: TLSContext
    /// The name the peer must prove (client side) or a label for messages (server side).
    public let host: String
    private(set) var inputEnded = false
    /// Ciphertext delivered by the stream below and not read by OpenSSL yet, during that delivery (see `lend`).
    private(set) var lent = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Ciphertext that arrived before OpenSSL wanted it and outlived its delivery, or was fed (`feed`); read first.
    var input = ByteRing()
    /// Where OpenSSL's ciphertext goes; nil: into `output`, for `takeOutput`.
    public var transport: (any ByteStream)?
    /// Ciphertext for `takeOutput`, when there is no transport.
    var output = ByteRing()
    /// A transfer is running over this connection: OpenSSL keeps its record buffers until it ends, instead of
    /// releasing them after each record (SSL_MODE_RELEASE_BUFFERS, which an idle connection wants).
    public var transferring = false {
        didSet {
            guard transferring != oldValue else { return }
            cssl_set_release_buffers(ssl, transferring ? 0 : 1)
        }
    }
    /// The newest resumable session the peer gave us (TLS 1.3 tickets arrive after the handshake, inside reads).
    public private(set) var latestSession: TLSSession?
    /// Every session the peer gave us and nobody took yet (see `takeReceivedSessions`).
    private var receivedSessions: [TLSSession] = []

    /// A client engine verifying `serverName` (a DNS name, or an IP literal checked against the certificate's IP
    /// addresses and sent without SNI), offering `session` for resumption if given.
    public init(context: TLSContext, serverName: String, session: TLSSession? = nil) throws(TLSError) {
        precondition(!context.isServer, "a client engine needs a client context")
        self.context = context
        host = serverName
        ssl = try Self.makeSSL(context)
        SSL_set_connect_state(ssl)
        // Name checks are set even in insecure mode: they cost nothing, and the verify mode decides whether they count.
        let parameters = SSL_get0_param(ssl)
        if SocketAddress(numericHost: serverName, port: 0) != nil {
            _ = X509_VERIFY_PARAM_set1_ip_asc(parameters, serverName)
        } else {
            _ = cssl_set_tlsext_host_name(ssl, serverName)  // RFC 6066 §3: SNI carries DNS names only
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, serverName) == 1 else {
                // All properties are set, so deinit runs and frees the SSL.
                throw .configuration("invalid host name '\(serverName)'")
            }
        }
        if let session { _ = SSL_set_session(ssl, session.session) }
        _ = cssl_set_app_data(ssl, Unmanaged.passUnretained(self).toOpaque())
        attachBIO()
    }

    /// A server engine, for tests' own TLS servers.
    public init(serverContext context: TLSContext, label: String = "client") throws(TLSError) {
        precondition(context.isServer, "a server engine needs a server context")
        self.context = context
        host = label
        ssl = try Self.makeSSL(context)
        SSL_set_accept_state(ssl)
        _ = cssl_set_app_data(ssl, Unmanaged.passUnretained(self).toOpaque())
        attachBIO()
    }

    private static func makeSSL(_ context: TLSContext) throws(TLSError) -> OpaquePointer {
        guard let ssl = SSL_new(context.context) else {
            throw .configuration("SSL_new: \(OpenSSLErrors.drain())")
        }
        return ssl
    }

    /// Gives OpenSSL our BIO, once `self` is whole (the BIO points at it).
    private func attachBIO() {
        let bio = EngineBIO.make(for: self)
        SSL_set_bio(ssl, bio, bio)  // the SSL now owns the BIO (one reference for both directions)
    }

    deinit {
        _ = cssl_set_app_data(ssl, nil)
        SSL_free(ssl)  // frees the BIO, which points at us unretained and is not called again
    }

    static func from(_ ssl: OpaquePointer) -> TLSEngine? {
        guard let raw = cssl_get_app_data(ssl) else { return nil }
        return Unmanaged<TLSEngine>.fromOpaque(raw).takeUnretainedValue()
    }

    func sessionArrived(_ session: TLSSession) {
        latestSession = session
        receivedSessions.append(session)
    }

    /// The sessions received since the last call. A TLS 1.3 ticket may be good for one resumption only (servers
    /// with a stateful cache, like vsftpd, enforce that): a client opening many connections spends them one by one.
    public func takeReceivedSessions() -> [TLSSession] {
        defer { receivedSessions = [] }
        return receivedSessions
    }

    // MARK: ciphertext in and out

    /// Hands ciphertext to OpenSSL by copying it (tests; a stream lends instead).
    public func feed(_ ciphertext: UnsafeRawBufferPointer) {
        input.append(ciphertext)
    }

    /// Lets OpenSSL read `ciphertext` where it lies, until `keepUnread()`, which the caller must make before the
    /// bytes go away (the end of the delivery that brought them).
    public func lend(_ ciphertext: UnsafeRawBufferPointer) {
        precondition(lent.isEmpty, "lend() twice without keepUnread()")
        lent = ciphertext
    }

    /// Ends a `lend`: what OpenSSL did not read yet is copied to be read later (it came before OpenSSL wanted it, or
    /// reading was paused), after anything kept before.
    public func keepUnread() {
        input.append(lent)
        lent = UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// Called by the BIO: moves up to `destination.count` bytes of ciphertext into OpenSSL, oldest first.
    func readCiphertext(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = input.isEmpty ? 0 : input.read(into: destination)
        if copied < destination.count && !lent.isEmpty {
            let n = min(lent.count, destination.count - copied)
            UnsafeMutableRawBufferPointer(rebasing: destination[copied..<(copied + n)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: lent[..<n]))
            lent = UnsafeRawBufferPointer(rebasing: lent[n...])
            copied += n
        }
        return copied
    }

    /// Called by the BIO with a record OpenSSL sealed.
    func writeCiphertext(_ bytes: UnsafeRawBufferPointer) {
        if let transport {
            transport.write(bytes)
        } else {
            output.append(bytes)
        }
    }

    var unreadCiphertext: Int { input.count + lent.count }

    /// The transport's inbound side ended: reads now fail instead of waiting, so a missing close_notify shows.
    public func endOfInput() {
        inputEnded = true
    }

    /// Ciphertext waits for `takeOutput` (only without a transport).
    public var hasOutput: Bool { !output.isEmpty }

    /// Passes every pending ciphertext byte to `body` (only without a transport: with one, it has gone already).
    public func takeOutput(_ body: (UnsafeRawBufferPointer) -> Void) {
        while !output.isEmpty {
            let span = output.firstSpan
            body(span)
            output.consume(span.count)
        }
    }

    /// The ciphertext kept for later reads (and, without a transport, for `takeOutput`).
    var heldBufferBytes: Int { input.capacity + output.capacity }

    /// Gives back what a transfer grew: the buffers for ciphertext kept for later, and OpenSSL's record buffers.
    /// False when something is still in them.
    @discardableResult
    public func releaseBuffers() -> Bool {
        input.release()
        output.release()
        guard SSL_is_init_finished(ssl) == 1, input.capacity == 0, output.capacity == 0 else { return false }
        return SSL_free_buffers(ssl) == 1
    }

    // MARK: operations

    public func handshake() -> Status {
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            if inputEnded {
                return .failed(.closedDuringHandshake(host: host))
            }
            return .wantInput
        default:
            return .failed(handshakeError())
        }
    }

    private func handshakeError() -> TLSError {
        let verifyResult = SSL_get_verify_result(ssl)
        if !context.isServer && context.configuration.verification == .full && verifyResult != X509_V_OK {
            OpenSSLErrors.clear()
            return .verificationFailed(host: host, reason: Self.verificationFailure(Int32(verifyResult), host: host))
        }
        if inputEnded {
            OpenSSLErrors.clear()
            return .closedDuringHandshake(host: host)
        }
        return .handshakeFailed(host: host, reason: OpenSSLErrors.drain())
    }

    static func verificationFailure(_ code: Int32, host: String) -> VerificationFailure {
        let detail = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)"
        switch code {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return .unknownCA(detail: detail)
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return .nameMismatch(expected: host)
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return .expired
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return .notYetValid
        default:
            return .other(code: Int(code), detail: detail)
        }
    }

    /// Decrypts into `buffer`. Call until `.wantInput`: OpenSSL may hold decrypted bytes that no socket event will
    /// announce (PLATFORM.md).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        OpenSSLErrors.clear()
        var count = 0
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count) == 1 { return .bytes(count) }
        switch SSL_get_error(ssl, 0) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return inputEnded ? endWithoutNotify() : .wantInput
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            if inputEnded && cssl_received_shutdown(ssl) == 0 { return endWithoutNotify() }
            return .failed(.protocolError(host: host, reason: OpenSSLErrors.drain()))
        }
    }

    private func endWithoutNotify() -> ReadResult {
        OpenSSLErrors.clear()
        return .failed(.closedWithoutCloseNotify(host: host))
    }

    /// Encrypts all of `bytes` (our BIO never makes a write wait: the transport queues what the kernel refuses).
    public func write(_ bytes: UnsafeRawBufferPointer) -> Status {
        guard !bytes.isEmpty else { return .complete }
        OpenSSLErrors.clear()
        var written = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written) == 1 {
            precondition(written == bytes.count, "partial TLS write without SSL_MODE_ENABLE_PARTIAL_WRITE")
            return .complete
        }
        switch SSL_get_error(ssl, 0) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantInput
        default:
            return .failed(.protocolError(host: host, reason: OpenSSLErrors.drain()))
        }
    }

    /// Queues our close_notify (RFC 8446 §6.1). The peer's may come later; reads report it as `.closed`.
    public func shutdown() {
        guard cssl_sent_shutdown(ssl) == 0 else { return }
        OpenSSLErrors.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrors.clear()
    }

    // MARK: what was negotiated

    public var isHandshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }
    public var isSessionResumed: Bool { SSL_session_reused(ssl) == 1 }
    public var receivedCloseNotify: Bool { cssl_received_shutdown(ssl) != 0 }

    public var protocolVersion: String {
        SSL_get_version(ssl).map { String(cString: $0) } ?? "unknown"
    }

    public var cipher: String {
        SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)).map { String(cString: $0) } ?? "none"
    }

    /// The session to offer on a later connection: the newest one the server issued, else the current one when
    /// OpenSSL deems it resumable.
    public var resumableSession: TLSSession? {
        if let latestSession, latestSession.isResumable { return latestSession }
        guard let current = SSL_get1_session(ssl) else { return nil }
        let session = TLSSession(taking: current)
        return session.isResumable ? session : nil
    }
}
