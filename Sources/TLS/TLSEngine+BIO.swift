internal import COpenSSL

/// The BIO between OpenSSL and a `TLSEngine`: reads take ciphertext from where the stream below delivered it (or from
/// what the engine kept of it), writes hand each sealed record to the engine's transport. Compared with a pair of
/// memory BIOs this saves a copy each way and OpenSSL's buffer growth, allocation and locking per record.
enum EngineBIO {
    /// One method table for the process, made on first use (Swift runs a global's initialiser once, thread-safely);
    /// never freed, like OpenSSL's own.
    nonisolated(unsafe) static let method: OpaquePointer = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "web2ftp engine") else {
            preconditionFailure("BIO_meth_new: out of memory")
        }
        _ = BIO_meth_set_read_ex(method, read)
        _ = BIO_meth_set_write_ex(method, write)
        _ = BIO_meth_set_ctrl(method, control)
        return method
    }()

    /// A BIO pointing at `engine`, unretained: the engine owns the SSL, which owns the BIO.
    static func make(for engine: TLSEngine) -> OpaquePointer {
        guard let bio = BIO_new(method) else { preconditionFailure("BIO_new: out of memory") }
        BIO_set_data(bio, Unmanaged.passUnretained(engine).toOpaque())
        BIO_set_init(bio, 1)
        return bio
    }

    private static func engine(_ bio: OpaquePointer?) -> TLSEngine {
        Unmanaged<TLSEngine>.fromOpaque(BIO_get_data(bio)!).takeUnretainedValue()
    }

    /// No ciphertext yet: "retry" (SSL_ERROR_WANT_READ) until the transport's input ends, then end of file.
    private static let read:
        @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?)
            -> Int32 = { bio, data, length, readBytes in
                cssl_bio_clear_retry_flags(bio)
                let engine = engine(bio)
                let count = engine.readCiphertext(into: UnsafeMutableRawBufferPointer(start: data, count: length))
                readBytes?.pointee = count
                if count > 0 { return 1 }
                if !engine.inputEnded { cssl_bio_set_retry_read(bio) }
                return 0
            }

    /// Never refused: the transport queues what the kernel does not take (its watermarks bound how much).
    private static let write:
        @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<Int>?)
            -> Int32 = { bio, data, length, written in
                cssl_bio_clear_retry_flags(bio)
                engine(bio).writeCiphertext(UnsafeRawBufferPointer(start: data, count: length))
                written?.pointee = length
                return 1
            }

    private static let control: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = {
        bio, command, _, _ in
        switch command {
        case BIO_CTRL_FLUSH:
            return 1  // every write has gone to the transport already
        case BIO_CTRL_PENDING:
            return engine(bio).unreadCiphertext
        case BIO_CTRL_EOF:
            let engine = engine(bio)
            return engine.inputEnded && engine.unreadCiphertext == 0 ? 1 : 0
        default:
            return 0  // WPENDING (nothing held), kTLS and the rest: not supported
        }
    }
}
