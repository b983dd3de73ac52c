internal import COpenSSL
@_spi(Internals) import Reactor

/// The CAs client contexts trust: one OpenSSL certificate store (X509_STORE) per distinct trust configuration, made
/// once per process and shared by every context that trusts the same (`SSL_CTX_set1_cert_store` takes a reference).
/// Parsing the system bundle cost ≈ 20 ms of CPU per context (139 certificates, most never used); instead the system
/// CAs are looked up in OpenSSL's hashed directory, each read the first time a chain names it as its issuer, then kept
/// in the store. Further CAs (`additionalCAFile`, `additionalCAPEM`) make a store of their own, so that they never
/// reach a context that did not ask for them.
/// @unchecked Sendable: a store is filled before it leaves `make`; OpenSSL locks its lookups and its cache itself.
final class TrustStore: @unchecked Sendable {
    let store: OpaquePointer

    private init(_ store: OpaquePointer) { self.store = store }

    deinit { X509_STORE_free(store) }

    /// What a store holds. A CA file is known by its identity too, so that a file renewed while a `schedule` process
    /// runs is read again by the next run.
    struct Key: Hashable, Sendable {
        var system: Bool
        var file: String?
        var fileIdentity: FileIdentity?
        var pem: [UInt8]?

        init(_ configuration: TLSConfiguration) {
            system = configuration.trustSystemStore
            file = configuration.additionalCAFile
            fileIdentity = configuration.additionalCAFile.flatMap { File.identity(of: $0) }
            pem = configuration.additionalCAPEM
        }
    }

    private struct Cache: Sendable {
        var system: TrustStore?
        /// The most recently used stores with further CAs, newest last. A process has one or two trust
        /// configurations; the bound keeps an embedder that makes many from growing the cache without end.
        var configured: [(key: Key, store: TrustStore)] = []
    }

    private static let cache = LockedValue(Cache())
    static let configuredLimit = 8

    /// The store for `configuration`; nil when it trusts nothing (the context's own empty store does).
    static func forConfiguration(_ configuration: TLSConfiguration) throws(TLSError) -> TrustStore? {
        let key = Key(configuration)
        return try cache.withLock { (cache) throws(TLSError) -> TrustStore? in
            if key.file == nil && key.pem == nil {
                guard key.system else { return nil }
                if let system = cache.system { return system }
                let system = try make(key)
                cache.system = system
                return system
            }
            if let index = cache.configured.firstIndex(where: { $0.key == key }) {
                let entry = cache.configured.remove(at: index)
                cache.configured.append(entry)
                return entry.store
            }
            let store = try make(key)
            cache.configured.append((key, store))
            if cache.configured.count > configuredLimit { cache.configured.removeFirst() }
            return store
        }
    }

    private static func make(_ key: Key) throws(TLSError) -> TrustStore {
        guard let store = X509_STORE_new() else {
            throw .configuration("X509_STORE_new: \(OpenSSLErrors.drain())")
        }
        let trust = TrustStore(store)
        if key.system { try trust.addSystemCAs() }
        if let file = key.file {
            OpenSSLErrors.clear()
            guard X509_STORE_load_file(store, file) == 1 else {
                throw .configuration("cannot load CA file '\(file)': \(OpenSSLErrors.drain())")
            }
        }
        if let pem = key.pem { try trust.add(pem: pem) }
        return trust
    }

    /// OpenSSL's default places, honouring SSL_CERT_DIR and SSL_CERT_FILE as `X509_STORE_set_default_paths` does,
    /// except that a bundle file is parsed only when no directory holds hashed names (Debian's /etc/ssl/certs has
    /// them, made by update-ca-certificates), or when SSL_CERT_FILE names one outside those directories: a bundle
    /// inside a hashed directory (/etc/ssl/certs/ca-certificates.crt) holds the same CAs as its links.
    private func addSystemCAs() throws(TLSError) {
        let directories =
            Self.environment(X509_get_default_cert_dir_env()) ?? String(cString: X509_get_default_cert_dir())
        let hashed = directories.split(separator: ":").map(String.init).filter {
            File.directoryContains($0, where: Self.isHashedName) == true
        }
        OpenSSLErrors.clear()
        if !hashed.isEmpty {
            guard let lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir()),
                cssl_lookup_add_dir(lookup, hashed.joined(separator: ":")) == 1
            else {
                throw .configuration("cannot use the CA directory '\(directories)': \(OpenSSLErrors.drain())")
            }
        }
        let file: String?
        if let named = Self.environment(X509_get_default_cert_file_env()) {
            let hashedPaths = hashed.compactMap { File.realPath($0) }
            let home = File.realPath(named).map { path in String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) }
            file = home.map { hashedPaths.contains($0) } == true ? nil : named
        } else {
            file = hashed.isEmpty ? String(cString: X509_get_default_cert_file()) : nil
        }
        // A missing or unreadable bundle is no error, as with OpenSSL's defaults: verification then fails naming the
        // CA, and the message says to pass it with --cacert.
        if let file { _ = X509_STORE_load_file(store, file) }
        OpenSSLErrors.clear()
    }

    private static func environment(_ name: UnsafePointer<CChar>?) -> String? {
        guard let name, let value = File.environment(String(cString: name)), !value.isEmpty else { return nil }
        return value
    }

    /// `c_rehash` names: eight hex digits of the subject's hash, a dot, a decimal counter ("3513523f.0").
    static func isHashedName(_ name: UnsafePointer<CChar>) -> Bool {
        for index in 0..<8 {
            let byte = UInt8(bitPattern: name[index])
            let hex = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
            guard hex else { return false }
        }
        guard name[8] == 0x2E else { return false }
        var index = 9
        while name[index] >= 0x30 && name[index] <= 0x39 { index += 1 }
        return index > 9 && name[index] == 0
    }

    /// Adds the certificates in `pem`, up to the first that does not parse; none at all is a configuration error (a
    /// CA that silently did not load would only show up as an unknown CA later).
    private func add(pem: [UInt8]) throws(TLSError) {
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
}
