import Foundation
@_spi(Internals) import Reactor

/// Where the real test servers are: the same variables and defaults as scripts/test-servers.sh.
public enum TestEnv {
    static func value(_ name: String, _ fallback: String) -> String {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
    }

    public static var directory: String { value("W2F_TEST_DIR", "/tmp/web2ftp-test-servers") }
    public static var httpPort: Int { Int(value("W2F_HTTP_PORT", "18080"))! }
    public static var httpsPort: Int { Int(value("W2F_HTTPS_PORT", "18443"))! }
    public static var ftpsPort: Int { Int(value("W2F_FTPS_PORT", "18021"))! }
    public static var ftpPort: Int { Int(value("W2F_FTP_PORT", "18022"))! }
    public static var ftpsImplicitPort: Int { Int(value("W2F_FTPS_IMPLICIT_PORT", "18023"))! }
    public static var proftpdPort: Int { Int(value("W2F_PROFTPD_PORT", "18031"))! }
    public static var pureftpdPort: Int { Int(value("W2F_PUREFTPD_PORT", "18032"))! }
    public static var pyftpdlibPort: Int { Int(value("W2F_PYFTPDLIB_PORT", "18033"))! }
    public static var ftpUser: String { value("W2F_FTP_USER", "w2ftest") }
    public static var ftpPassword: String { value("W2F_FTP_PASS", "w2ftest-Secret-1") }
    public static var caFile: String { directory + "/ca.pem" }
    public static var serverCertificate: String { directory + "/server.pem" }
    public static var serverKey: String { directory + "/server.key" }
    public static var expiredCertificate: String { directory + "/expired.pem" }
    public static var expiredKey: String { directory + "/expired.key" }
    public static var wwwDirectory: String { directory + "/www" }

    /// The real test servers by the name a failure gives them.
    public enum Server: Sendable {
        case nginxHTTP, nginxHTTPS, vsftpd, vsftpdPlain, vsftpdImplicit

        var port: Int {
            switch self {
            case .nginxHTTP: TestEnv.httpPort
            case .nginxHTTPS: TestEnv.httpsPort
            case .vsftpd: TestEnv.ftpsPort
            case .vsftpdPlain: TestEnv.ftpPort
            case .vsftpdImplicit: TestEnv.ftpsImplicitPort
            }
        }

        var name: String {
            switch self {
            case .nginxHTTP: "nginx (HTTP)"
            case .nginxHTTPS: "nginx (HTTPS)"
            case .vsftpd: "vsftpd (FTPS)"
            case .vsftpdPlain: "vsftpd (plain FTP)"
            case .vsftpdImplicit: "vsftpd (implicit FTPS)"
            }
        }
    }

    /// Fails (never skips) when one of the servers a test needs is not listening.
    public static func require(_ servers: Server...) throws {
        for server in servers { try requireServer(port: server.port, server.name) }
    }

    /// Fails (never skips) when a server the test needs is not listening, saying how to start it.
    public static func requireServer(port: Int, _ what: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            throw TestFailure(
                "\(what) is not listening on 127.0.0.1:\(port): start the test servers with "
                    + "`scripts/test-servers.sh start` (or run the tests through scripts/test.sh)")
        }
        guard FileManager.default.fileExists(atPath: caFile) else {
            throw TestFailure("the test CA \(caFile) is missing: restart the test servers")
        }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
