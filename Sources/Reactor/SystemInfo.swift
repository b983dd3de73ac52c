import Glibc

/// Facts about this process and host, for names that must be unique and recognisable (temporary upload names).
public enum SystemInfo {
    public static var processID: Int32 { getpid() }

    /// The host name, or "localhost" when it cannot be had.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
