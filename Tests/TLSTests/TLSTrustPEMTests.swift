import Foundation
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

@Suite("TLS trust given as PEM bytes")
struct TLSTrustPEMTests {
    @Test("the test CA as PEM bytes verifies nginx as the CA file does")
    func verifiedWithPEMBytes() async throws {
        let pem = try #require(FileManager.default.contents(atPath: TestEnv.caFile))
        let small = try String(contentsOfFile: TestEnv.wwwDirectory + "/small.csv", encoding: .utf8)
        let fetch = try await fetch(configuration: .client(additionalCAPEM: Array(pem))).get()
        #expect(fetch.body == small)
    }

    @Test("PEM bytes with no certificate are a configuration error, not a silent unknown CA later")
    func noCertificate() {
        for text in ["", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] {
            #expect {
                _ = try TLSContext(.client(additionalCAPEM: Array(text.utf8)))
            } throws: { error in
                guard case TLSError.configuration(let message) = error else { return false }
                return message.contains("cannot load the CA PEM")
            }
        }
    }
}
