import Glibc

/// Everything the engine layer can fail with. Each case carries what a person needs to act on it: which call, which
/// host, which address, which errno.
public enum ReactorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed with an errno that the caller did not expect.
    case syscall(String, errno: Int32)
    /// The name could not be resolved (getaddrinfo's own words in `reason`).
    case resolveFailed(host: String, reason: String)
    /// The resolver did not answer within the timeout.
    case resolveTimeout(host: String, milliseconds: Int)
    /// Every address refused the connection.
    case connectionRefused(host: String, port: Int, address: String)
    /// No address accepted the connection within the timeout.
    case connectTimeout(host: String, port: Int, milliseconds: Int)
    /// Connecting failed for another reason (unreachable network, no route …).
    case connectFailed(host: String, port: Int, address: String, errno: Int32)
    /// The peer reset the connection.
    case connectionReset(peer: String)
    /// An operation was asked of a connection that is already closed.
    case closed
    /// The operation was cancelled by its owner before it completed.
    case cancelled

    public var description: String {
        switch self {
        case .syscall(let name, let errno):
            return "\(name) failed: \(Errno.describe(errno))"
        case .resolveFailed(let host, let reason):
            return "cannot resolve host '\(host)': \(reason)"
        case .resolveTimeout(let host, let ms):
            return "resolving host '\(host)' timed out after \(ms) ms"
        case .connectionRefused(let host, let port, let address):
            return "connection to \(host) port \(port) refused (\(address)): is the server running?"
        case .connectTimeout(let host, let port, let ms):
            return "connecting to \(host) port \(port) timed out after \(ms) ms"
        case .connectFailed(let host, let port, let address, let errno):
            return "cannot connect to \(host) port \(port) (\(address)): \(Errno.describe(errno))"
        case .connectionReset(let peer):
            return "connection reset by \(peer)"
        case .closed:
            return "the connection is already closed"
        case .cancelled:
            return "cancelled"
        }
    }
}

/// errno values as text: the name programmers grep for plus the C library's sentence.
@_spi(Internals) public enum Errno {
    public static func describe(_ code: Int32) -> String {
        let text = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        if let name = name(code) { return "\(text) (\(name))" }
        return text
    }

    static func name(_ code: Int32) -> String? {
        switch code {
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case EINTR: return "EINTR"
        case EBADF: return "EBADF"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EINVAL: return "EINVAL"
        case EMFILE: return "EMFILE"
        case ENFILE: return "ENFILE"
        case EPIPE: return "EPIPE"
        case EADDRINUSE: return "EADDRINUSE"
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL"
        case ENETDOWN: return "ENETDOWN"
        case ENETUNREACH: return "ENETUNREACH"
        case ECONNABORTED: return "ECONNABORTED"
        case ECONNRESET: return "ECONNRESET"
        case ENOTCONN: return "ENOTCONN"
        case ETIMEDOUT: return "ETIMEDOUT"
        case ECONNREFUSED: return "ECONNREFUSED"
        case EHOSTUNREACH: return "EHOSTUNREACH"
        case EINPROGRESS: return "EINPROGRESS"
        case EAFNOSUPPORT: return "EAFNOSUPPORT"
        case EIO: return "EIO"
        case ENOSPC: return "ENOSPC"
        case EDQUOT: return "EDQUOT"
        case EFBIG: return "EFBIG"
        case EROFS: return "EROFS"
        case ENOTDIR: return "ENOTDIR"
        case EISDIR: return "EISDIR"
        case EEXIST: return "EEXIST"
        default: return nil
        }
    }
}
