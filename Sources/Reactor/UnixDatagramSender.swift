import Glibc

/// Sends datagrams to one AF_UNIX address, with `sendto(2)` each time (no connect: a socket that is recreated
/// between two sends is still reached). Made for systemd's notify socket (sd_notify(3)); nonblocking, so a full
/// receive queue costs the caller one dropped message, never a stalled loop.
@_spi(Internals) public final class UnixDatagramSender {
    private var fd: Int32
    private var address = sockaddr_un()
    private let length: socklen_t

    /// The longest `sunPath` a `sockaddr_un` holds (108 bytes on Linux).
    public static let maximumPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// `sunPath`: the bytes of `sun_path` exactly as the address length counts them — a filesystem path with its
    /// terminating NUL, or an abstract name: a NUL byte, then the name, and no terminating NUL (for an abstract
    /// name every byte of the length is part of the name: unix(7)).
    public init(sunPath: [UInt8]) throws(ReactorError) {
        precondition(
            !sunPath.isEmpty && sunPath.count <= Self.maximumPathBytes, "sun_path must hold 1 to 108 bytes")
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: sunPath) }
        length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + sunPath.count)
        fd = try Sys.unixDatagramSocket()
    }

    deinit {
        if fd >= 0 { Sys.close(fd) }
    }

    /// Sends `message` as one datagram: `.processed` with the bytes sent, `.wouldBlock` when the receiver's queue
    /// is full; a missing or refusing receiver throws (ENOENT, ECONNREFUSED).
    public func send(_ message: [UInt8]) throws(ReactorError) -> IOResult<Int> {
        let fd = fd
        let length = length
        var address = address
        let result: Result<IOResult<Int>, ReactorError> = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { bytes in
                    Result { () throws(ReactorError) in try Sys.sendTo(fd, bytes, socketAddress, length) }
                }
            }
        }
        return try result.get()
    }
}
