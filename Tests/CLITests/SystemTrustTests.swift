import Foundation
@_spi(Internals) import TestSupport
import Testing

/// The system trust as OpenSSL defines its places (SSL_CERT_DIR, SSL_CERT_FILE), with the test CA standing in for a
/// public one. Child processes: the system store is made once per process, from the environment at that time.
@Suite("web2ftp get: the system CAs, by hashed directory or bundle file")
struct SystemTrustTests {
    /// A directory holding `certificates` (the test CA by default), each under the name c_rehash gives it
    /// (`<subject hash>.0`) or, not hashed, under its own name.
    func certificateDirectory(hashed: Bool, certificates: [String] = [TestEnv.caFile]) throws -> String {
        let directory = NSTemporaryDirectory() + "w2f-certs-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for certificate in certificates {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["x509", "-hash", "-noout", "-in", certificate]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let hash = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            process.waitUntilExit()
            #expect(hash.count == 8, "openssl x509 -hash printed '\(hash)'")
            let name = hashed ? "\(hash).0" : (certificate as NSString).lastPathComponent
            try FileManager.default.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: certificate)
        }
        return directory
    }

    func get(environment: [String: String]) throws -> ProductRun {
        try TestEnv.require(.nginxHTTPS)
        return try runProduct(
            "web2ftp", ["get", "https://localhost:\(TestEnv.httpsPort)/small.csv", "-o", "/dev/null"],
            environment: environment)
    }

    @Test("a CA in the hashed directory (SSL_CERT_DIR) is trusted without --cacert")
    func hashedDirectory() throws {
        let directory = try certificateDirectory(hashed: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try get(environment: ["SSL_CERT_DIR": directory, "SSL_CERT_FILE": ""])
        #expect(run.status == 0, "\(run.error)")
    }

    @Test("several directories, as OpenSSL reads SSL_CERT_DIR: the CA is found in the second")
    func directoryList() throws {
        let empty = try certificateDirectory(hashed: false)
        let directory = try certificateDirectory(hashed: true)
        defer { for path in [empty, directory] { try? FileManager.default.removeItem(atPath: path) } }
        let run = try get(environment: ["SSL_CERT_DIR": "\(empty):\(directory)"])
        #expect(run.status == 0, "\(run.error)")
    }

    @Test("a bundle named by SSL_CERT_FILE outside the hashed directories is read as well")
    func namedFile() throws {
        let directory = try certificateDirectory(hashed: true, certificates: [TestEnv.serverCertificate])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try get(environment: ["SSL_CERT_DIR": directory, "SSL_CERT_FILE": TestEnv.caFile])
        #expect(run.status == 0, "\(run.error)")
    }

    @Test("a bundle inside a hashed directory is not parsed: it holds what the links hold")
    func bundleInsideDirectory() throws {
        let directory = try certificateDirectory(hashed: true, certificates: [TestEnv.serverCertificate])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: TestEnv.caFile, toPath: directory + "/ca-certificates.crt")
        let run = try get(environment: ["SSL_CERT_DIR": directory, "SSL_CERT_FILE": directory + "/ca-certificates.crt"])
        #expect(run.status == 1)
        #expect(run.error.contains("not trusted"), "\(run.error)")
    }

    @Test("a directory without hashed names trusts nothing it holds, and the issuer is unknown")
    func unhashedDirectory() throws {
        let directory = try certificateDirectory(hashed: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try get(environment: ["SSL_CERT_DIR": directory])
        #expect(run.status == 1)
        #expect(run.error.contains("not trusted"), "\(run.error)")
    }
}
