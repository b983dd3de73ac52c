internal import COpenSSL

/// SHA-256, streaming: the digest of what was uploaded goes into the log and the summary, so a published file can be
/// checked against it. libcrypto's, not ours: it runs over every byte uploaded, and OpenSSL's uses the CPU's SHA
/// extensions (≈ 2 GB/s here against ≈ 250 MB/s for a portable Swift one, which made the digest the hot spot of a
/// plain transfer). libcrypto is linked for TLS anyway.
@_spi(Internals) public struct SHA256 {
    private final class Context {
        let pointer: OpaquePointer

        init() {
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                // Only an allocation failure gets here; the process could not go on sensibly anyway.
                fatalError("libcrypto could not set up SHA-256")
            }
            pointer = context
        }

        init(copying other: Context) {
            guard let context = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(context, other.pointer) == 1 else {
                fatalError("libcrypto could not copy a SHA-256 state")
            }
            pointer = context
        }

        deinit { EVP_MD_CTX_free(pointer) }
    }

    private let context: Context
    private var finished = false

    public init() { context = Context() }

    private init(copying other: Context) { context = Context(copying: other) }

    /// An independent copy of the state so far: a resumed upload goes on from a checkpoint and its digest is still
    /// that of the whole file. (The struct shares its context between copies, so a plain assignment would not do.)
    public func snapshot() -> SHA256 {
        precondition(!finished, "SHA256.snapshot() after hexDigest()")
        return SHA256(copying: context)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "SHA256 used after hexDigest()")
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context.pointer, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lower-case hex digits. Ends the computation (call once).
    public mutating func hexDigest() -> String {
        precondition(!finished, "SHA256.hexDigest() called twice")
        finished = true
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context.pointer, &digest, &length)
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
