internal import COpenSSL

/// An OpenSSL SSL_CTX configured once from a `TLSConfiguration` and then shared by every connection made with it
/// (loading the CA store costs milliseconds: make one context per configuration, not per connection).
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
        if configuration.trustSystemStore {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .configuration("cannot load the system CA store: \(OpenSSLErrors.drain())")
            }
        }
        if let file = configuration.additionalCAFile {
            guard SSL_CTX_load_verify_locations(context, file, nil) == 1 else {
                throw .configuration("cannot load CA file '\(file)': \(OpenSSLErrors.drain())")
            }
        }
        if let pem = configuration.additionalCAPEM { try trust(pem: pem) }
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

    /// Adds the certificates in `pem` to the context's trust store, up to the first that does not parse; none at all
    /// is a configuration error (a CA that silently did not load would only show up as an unknown CA later).
    private func trust(pem: [UInt8]) throws(TLSError) {
        guard let store = SSL_CTX_get_cert_store(context) else {
            throw .configuration("cannot add the CA PEM: no certificate store")
        }
        OpenSSLErrors.clear()
        let added: Int? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(clamping: bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            var count = 0
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                defer { X509_free(certificate) }
                guard X509_STORE_add_cert(store, certificate) == 1 else { return nil }
                count += 1
            }
            return count
        }
        // The reading ends on "no start line" at the end of the text: an error only when nothing was read.
        let detail = OpenSSLErrors.drain()
        guard let added, added > 0 else {
            throw .configuration("cannot load the CA PEM (\(pem.count) bytes): \(detail)")
        }
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
