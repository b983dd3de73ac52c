import Foundation
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

@Suite("TLS trust: one store per trust configuration, shared by its contexts")
struct TLSTrustStoreTests {
    @Test("contexts that trust the same CAs share one store; further CAs make a store of their own")
    func sharing() throws {
        let system = try TLSContext(.client())
        let insecure = try TLSContext(.client(verification: .insecureNoVerification, maximumVersion: .tls12))
        let withCA = try TLSContext(.client(additionalCAFile: TestEnv.caFile))
        let withCAAgain = try TLSContext(.client(additionalCAFile: TestEnv.caFile, maximumVersion: .tls12))
        let pem = try #require(FileManager.default.contents(atPath: TestEnv.caFile))
        let withPEM = try TLSContext(.client(additionalCAPEM: Array(pem)))
        #expect(system.sharesTrust(with: insecure))
        #expect(withCA.sharesTrust(with: withCAAgain))
        #expect(!system.sharesTrust(with: withCA))
        #expect(!withPEM.sharesTrust(with: withCA) && !withPEM.sharesTrust(with: system))
        var nothing = TLSConfiguration.client()
        nothing.trustSystemStore = false
        #expect(!(try TLSContext(nothing)).sharesTrust(with: system))
    }

    @Test("a CA another context was given does not reach a context that did not ask for it")
    func noLeak() async throws {
        let withCA = try TLSContext(.client(additionalCAFile: TestEnv.caFile))
        let pem = try #require(FileManager.default.contents(atPath: TestEnv.caFile))
        let withPEM = try TLSContext(.client(additionalCAPEM: Array(pem)))
        let verified = try await fetch(configuration: .client(additionalCAFile: TestEnv.caFile))
        #expect(throws: Never.self) { try verified.get() }
        let result = try await fetch(configuration: .client())
        guard case .failure(.verificationFailed(_, .unknownCA)) = result else {
            Issue.record("a context without the test CA verified nginx: \(result)")
            return
        }
        withExtendedLifetime((withCA, withPEM)) {}
    }

    @Test("a CA file rewritten between two contexts is read again")
    func renewedFile() throws {
        let path = NSTemporaryDirectory() + "w2f-ca-\(UInt32.random(in: 0...UInt32.max)).pem"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.copyItem(atPath: TestEnv.caFile, toPath: path)
        let first = try TLSContext(.client(additionalCAFile: path))
        #expect(first.sharesTrust(with: try TLSContext(.client(additionalCAFile: path))))
        try FileManager.default.removeItem(atPath: path)
        try "not a certificate\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: TLSError.self) { try TLSContext(.client(additionalCAFile: path)) }
    }
}
