@_spi(Internals) import FTP
import Testing

@_spi(Internals) @testable import WebToFTP

@Suite("FTPHOST: host, host:port, [IPv6]:port, or a URL")
struct FTPHostTests {
    @Test(
        "parsed forms",
        arguments: [
            ("ftp.example.com", "ftp.example.com", nil, nil), ("h:2121", "h", 2121, nil), ("[::1]:21", "::1", 21, nil),
            ("[::1]", "::1", nil, nil), ("ftp://h", "h", nil, FTPSecurity.none),
            ("ftpes://h:2121", "h", 2121, .explicitTLS),
            ("ftps://h", "h", nil, .implicitTLS), ("FTPS://h:990/", "h", 990, .implicitTLS),
            ("ftpes://[::1]:21", "::1", 21, .explicitTLS),
        ] as [(String, String, Int?, FTPSecurity?)])
    func parsed(text: String, host: String, port: Int?, scheme: FTPSecurity?) throws {
        #expect(try FTPHost.parse(text).get() == FTPHost(host: host, port: port, scheme: scheme))
    }

    @Test(
        "refused forms, the credentials never in the message",
        arguments: [
            ("ftp://u:secret@h", "FTPHOST \"ftp://***@h\": no user or password in FTPHOST"),
            ("u:secret@h:21", "FTPHOST \"***@h:21\": no user or password in FTPHOST"),
            ("ftpes://h/in", "no path here (the remote directory is FTPTARGET)"),
            ("sftp://h", "unknown scheme 'sftp' (expected ftp, ftpes or ftps)"), ("ftp://h:0", "invalid port"),
            ("ftps://h:x", "invalid port"), ("ftps://", "no host"), ("[::1", "unclosed '['"),
        ])
    func refused(text: String, expected: String) {
        guard case .failure(let error) = FTPHost.parse(text) else {
            Issue.record("\(text) accepted")
            return
        }
        #expect(error.description.contains(expected), "\(error)")
        #expect(!error.description.contains("secret"))
    }

    @Test(
        "the security: the scheme and FTPTLS/--ftp-tls agree; plain FTP only when named",
        arguments: [
            (nil, nil, FTPSecurity.explicitTLS), (nil, .implicitTLS, .implicitTLS), (.implicitTLS, nil, .implicitTLS),
            (.implicitTLS, .implicitTLS, .implicitTLS), (.explicitTLS, nil, .explicitTLS),
            (FTPSecurity.none, FTPSecurity.none, FTPSecurity.none),
            (FTPSecurity.none, nil, nil), (FTPSecurity.none, .explicitTLS, nil), (.implicitTLS, .explicitTLS, nil),
            (.explicitTLS, FTPSecurity.none, nil),
        ] as [(FTPSecurity?, FTPSecurity?, FTPSecurity?)])
    func security(scheme: FTPSecurity?, given: FTPSecurity?, expected: FTPSecurity?) {
        let host = FTPHost(host: "h", port: nil, scheme: scheme)
        let result = try? host.security(given: given, from: "FTPTLS").get()
        #expect(result == expected)
    }

    @Test("FTPEnvironment.load: the URL's security and port, ~/.netrc looked up by the bare host")
    func environment() throws {
        let ftp = try FTPEnvironment.load(
            ["FTPHOST": "ftps://files.example:6990", "FTPTARGET": "/in"],
            netrc: "machine files.example login u password p")
        #expect(ftp.host == "files.example" && ftp.port == 6990 && ftp.security == .implicitTLS)
        #expect(ftp.user == "u" && ftp.password == "p")
        #expect(throws: ConfigError.self) {
            try FTPEnvironment.load(["FTPHOST": "ftp://h", "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/"])
        }
        let plain = try FTPEnvironment.load(
            ["FTPHOST": "ftp://h", "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/"], security: FTPSecurity.none)
        #expect(plain.security == .none && plain.port == nil)
    }

    @Test(
        "~/.netrc permissions: warned about when it gave the password and group or others have access",
        arguments: [
            (0o600, true, false), (0o400, true, false), (0o640, true, true), (0o604, true, true), (0o644, false, false),
            (0o660, true, true),
        ] as [(UInt32, Bool, Bool)])
    func netrcPermissions(mode: UInt32, gavePassword: Bool, warned: Bool) {
        #expect((Netrc.permissionWarning(mode: mode, gavePassword: gavePassword) != nil) == warned)
    }
}
