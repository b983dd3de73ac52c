internal import COpenSSL
@_spi(Internals) import Reactor

/// One TLS connection's state machine over OpenSSL, doing no I/O of its own: ciphertext goes in with `feed`, comes
/// out with `takeOutput`, and each operation says whether it finished, needs more input, or failed. Memory BIOs keep
/// OpenSSL away from the socket (its socket BIO writes without MSG_NOSIGNAL) and let tests run handshakes in memory.
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
    private var input: OpaquePointer
    private var output: OpaquePointer
    private let context: TLSContext
    /// The name the peer must prove (client side) or a label for messages (server side).
    public let host: String
    private var inputEnded = false
    private var outputBuffer: UnsafeMutableRawBufferPointer?
    /// Ciphertext leaves in large chunks (an upload): see `takeOutput`.
    public var bulkOutput = false
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
        (ssl, input, output) = try Self.makeSSL(context)
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
    }

    /// A server engine, for tests' own TLS servers.
    public init(serverContext context: TLSContext, label: String = "client") throws(TLSError) {
        precondition(context.isServer, "a server engine needs a server context")
        self.context = context
        host = label
        (ssl, input, output) = try Self.makeSSL(context)
        SSL_set_accept_state(ssl)
        _ = cssl_set_app_data(ssl, Unmanaged.passUnretained(self).toOpaque())
    }

    private static func makeSSL(_ context: TLSContext) throws(TLSError) -> (OpaquePointer, OpaquePointer, OpaquePointer)
    {
        guard let ssl = SSL_new(context.context) else {
            throw .configuration("SSL_new: \(OpenSSLErrors.drain())")
        }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .configuration("BIO_new: \(OpenSSLErrors.drain())")
        }
        // An empty input BIO means "retry later" until the transport reports its end (see `endOfInput`).
        _ = cssl_bio_set_mem_eof_return(input, -1)
        SSL_set_bio(ssl, input, output)  // the SSL now owns both BIOs
        return (ssl, input, output)
    }

    deinit {
        _ = cssl_set_app_data(ssl, nil)
        SSL_free(ssl)
        outputBuffer?.deallocate()
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

    /// Hands ciphertext from the transport to OpenSSL.
    public func feed(_ ciphertext: UnsafeRawBufferPointer) {
        guard !ciphertext.isEmpty else { return }
        let written = BIO_write(input, ciphertext.baseAddress, Int32(ciphertext.count))
        precondition(written == Int32(ciphertext.count), "memory BIO refused input (out of memory?)")
    }

    /// The transport's inbound side ended: reads now fail instead of waiting, so a missing close_notify shows.
    public func endOfInput() {
        inputEnded = true
        _ = cssl_bio_set_mem_eof_return(input, 0)
    }

    public var hasOutput: Bool { cssl_bio_pending(output) > 0 }

    /// Passes every pending ciphertext byte to `body`, in chunks from one reused buffer: with `bulkOutput`, up to
    /// 272 KiB (sixteen full records and their overhead, so that a 256 KiB write leaves in one send), else 4 KiB
    /// (commands, requests, handshake flights).
    public func takeOutput(_ body: (UnsafeRawBufferPointer) -> Void) {
        let size = bulkOutput ? 272 * 1024 : 4 * 1024
        if let buffer = outputBuffer, buffer.count != size {
            buffer.deallocate()
            outputBuffer = nil
        }
        while cssl_bio_pending(output) > 0 {
            let buffer = outputBuffer ?? .allocate(byteCount: size, alignment: 16)
            outputBuffer = buffer
            let count = BIO_read(output, buffer.baseAddress, Int32(buffer.count))
            guard count > 0 else { return }
            body(UnsafeRawBufferPointer(rebasing: buffer[..<Int(count)]))
        }
    }

    /// The output chunk buffer and the memory BIOs' capacity.
    var heldBufferBytes: Int {
        (outputBuffer?.count ?? 0) + Int(cssl_bio_capacity(input)) + Int(cssl_bio_capacity(output))
    }

    /// Gives back what a transfer grew: the output chunk buffer, and the memory BIOs, which keep the capacity of the
    /// largest chunk they ever held (swapped for fresh ones, only while both are empty and the handshake is done).
    /// OpenSSL's own record buffers go by themselves (SSL_MODE_RELEASE_BUFFERS).
    /// False when the BIOs could not be swapped yet.
    @discardableResult
    public func releaseBuffers() -> Bool {
        outputBuffer?.deallocate()
        outputBuffer = nil
        guard SSL_is_init_finished(ssl) == 1, cssl_bio_pending(input) == 0, cssl_bio_pending(output) == 0,
            let freshInput = BIO_new(BIO_s_mem())
        else { return false }
        guard let freshOutput = BIO_new(BIO_s_mem()) else {
            BIO_free(freshInput)
            return false
        }
        _ = cssl_bio_set_mem_eof_return(freshInput, inputEnded ? 0 : -1)
        // Each call frees the BIO it replaces.
        SSL_set0_rbio(ssl, freshInput)
        SSL_set0_wbio(ssl, freshOutput)
        input = freshInput
        output = freshOutput
        return true
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

    /// Encrypts all of `bytes` (memory BIOs never make a write wait).
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
