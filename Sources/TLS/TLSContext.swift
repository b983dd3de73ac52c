internal import COpenSSL
@_spi(Internals) import Reactor

/// An OpenSSL SSL_CTX configured once from a `TLSConfiguration` and then shared by every connection made with it
/// (SSL_CTX_new costs ≈ 1 ms: make one context per configuration, not per connection). Its CAs come from the
/// process-wide `TrustStore` for its configuration.
/// @unchecked Sendable: the SSL_CTX is only changed inside init; OpenSSL allows SSL_new on a configured context from
/// any thread.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let configuration: TLSConfiguration
    let isServer: Bool

    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        isServer = configuration.certificateChainFile != nil
        guard let context = SSL_CTX_new(isServer ? TLS_server_method() : TLS_client_method()) else {
            throw .configuration("SSL_CTX_new: \(OpenSSLErrors.drain())")
        }
        self.context = context
        // Every property is set: if configure() throws, deinit runs and frees the context.
        try configure()
    }

    deinit { SSL_CTX_free(context) }

    /// One client context per distinct configuration for the whole process (the HTTP client and the FTP sessions of a
    /// run share it, and so do the runs of a `schedule`): SSL_CTX_new alone costs ≈ 3 M instructions.
    @_spi(Internals) public static func shared(_ configuration: TLSConfiguration) throws(TLSError) -> TLSContext {
        let key = SharedKey(configuration)
        return try sharedContexts.withLock { (contexts) throws(TLSError) -> TLSContext in
            if let index = contexts.firstIndex(where: { $0.key == key }) {
                let entry = contexts.remove(at: index)
                contexts.append(entry)
                return entry.context
            }
            let context = try TLSContext(configuration)
            contexts.append((key, context))
            if contexts.count > TrustStore.configuredLimit { contexts.removeFirst() }
            return context
        }
    }

    private struct SharedKey: Equatable, Sendable {
        var trust: TrustStore.Key
        var verification: TLSConfiguration.Verification
        var minimumVersion: TLSConfiguration.Version
        var maximumVersion: TLSConfiguration.Version?
        var groups: String
        var server: Bool

        init(_ configuration: TLSConfiguration) {
            trust = TrustStore.Key(configuration)
            verification = configuration.verification
            minimumVersion = configuration.minimumVersion
            maximumVersion = configuration.maximumVersion
            groups = configuration.groups
            server = configuration.certificateChainFile != nil
        }
    }

    private static let sharedContexts = LockedValue<[(key: SharedKey, context: TLSContext)]>([])

    /// Loads the CAs `configuration` trusts into the process-wide store that its contexts will share, or says why
    /// they do not load: for checking `--cacert` up front, without making a context.
    @_spi(Internals) public static func loadTrust(_ configuration: TLSConfiguration) throws(TLSError) {
        _ = try TrustStore.forConfiguration(configuration)
    }

    /// Whether both contexts verify against the very same certificate store (what `TrustStore` shares).
    @_spi(Internals) public func sharesTrust(with other: TLSContext) -> Bool {
        SSL_CTX_get_cert_store(context) == SSL_CTX_get_cert_store(other.context)
    }

    private func configure() throws(TLSError) {
        cssl_ctx_set_default_options(context)
        guard cssl_ctx_set_min_proto_version(context, Self.version(configuration.minimumVersion)) == 1 else {
            throw .configuration("cannot set the minimum TLS version: \(OpenSSLErrors.drain())")
        }
        if let maximum = configuration.maximumVersion {
            guard Self.version(maximum) >= Self.version(configuration.minimumVersion),
                cssl_ctx_set_max_proto_version(context, Self.version(maximum)) == 1
            else {
                throw .configuration("cannot set the maximum TLS version: \(OpenSSLErrors.drain())")
            }
        }
        guard cssl_ctx_set1_groups_list(context, configuration.groups) == 1 else {
            throw .configuration("unknown key-exchange groups '\(configuration.groups)': \(OpenSSLErrors.drain())")
        }
        if isServer {
            try configureServer()
        } else {
            try configureClient()
        }
    }

    private func configureClient() throws(TLSError) {
        switch configuration.verification {
        case .full:
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .insecureNoVerification:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        // The process-wide store for this trust (see TrustStore): no CA is parsed here.
        if let trust = try TrustStore.forConfiguration(configuration) { SSL_CTX_set1_cert_store(context, trust.store) }
        cssl_ctx_set_client_session_cache(context)
        SSL_CTX_sess_set_new_cb(
            context,
            { ssl, session in
                guard let ssl, let session, let engine = TLSEngine.from(ssl) else { return 0 }
                // Returning 1 keeps OpenSSL's reference for us: TLSSession frees it.
                engine.sessionArrived(TLSSession(taking: session))
                return 1
            })
    }

    private func configureServer() throws(TLSError) {
        guard let chain = configuration.certificateChainFile, let key = configuration.privateKeyFile else {
            throw .configuration("a server context needs both a certificate chain and a private key")
        }
        guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
            throw .configuration("cannot load certificate chain '\(chain)': \(OpenSSLErrors.drain())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, key, cssl_filetype_pem()) == 1 else {
            throw .configuration("cannot load private key '\(key)': \(OpenSSLErrors.drain())")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw .configuration("private key '\(key)' does not match the certificate: \(OpenSSLErrors.drain())")
        }
        cssl_ctx_set_server_session_cache(context)
        let id: [UInt8] = Array("web2ftp-test".utf8)
        _ = SSL_CTX_set_session_id_context(context, id, UInt32(id.count))
    }

    static func version(_ version: TLSConfiguration.Version) -> Int32 {
        switch version {
        case .tls12: return cssl_tls1_2_version()
        case .tls13: return cssl_tls1_3_version()
        }
    }
}

/// OpenSSL's per-thread error queue as one line of text.
enum OpenSSLErrors {
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !messages.contains(text) { messages.append(text) }
        }
        return messages.isEmpty ? "no further detail from OpenSSL" : messages.joined(separator: "; ")
    }

    static func clear() { ERR_clear_error() }
}
