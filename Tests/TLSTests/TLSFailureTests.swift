@_spi(Internals) import Reactor
@_spi(Internals) import TLS
import Testing

@Suite("TLSError as the layers above a stream see it")
struct TLSFailureTests {
    static let reset = ReactorError.connectionReset(peer: "10.0.0.1:21")
    static let rows: [(TLSError, TLSFailure.Kind, String, Bool)] = [
        (.configuration("no CA file"), .configuration, "", false),
        (.verificationFailed(host: "h", reason: .expired), .verification, "h", false),
        (.handshakeFailed(host: "h", reason: "alert 40"), .handshake, "h", false),
        (.handshakeTimeout(host: "h", milliseconds: 5), .handshake, "h", true),
        (.closedDuringHandshake(host: "h"), .handshake, "h", true),
        (.transport(host: "h", reset), .transport, "h", true),
        (.closedWithoutCloseNotify(host: "h"), .closedWithoutCloseNotify, "h", true),
        (.protocolError(host: "h", reason: "bad record mac"), .protocolError, "h", false),
    ]

    @Test("each case keeps its kind, host, words and whether another attempt is worth it", arguments: rows)
    func failure(_ error: TLSError, kind: TLSFailure.Kind, host: String, transient: Bool) {
        let failure = error.failure
        #expect(failure.kind == kind)
        #expect(failure.host == host)
        #expect(failure.isTransient == transient)
        #expect(failure.isTransient == error.isTransient)
        #expect(failure.description == error.description)
        #expect(failure.isVerificationFailure == (kind == .verification))
        #expect(StreamError.tls(failure).isTransient == transient)
        #expect(StreamError.tls(failure).description == error.description)
    }

    @Test("a failure of the TLS layer below (a proxy's TLS) passes up unchanged")
    func layerBelow() {
        let inner = TLSError.verificationFailed(host: "proxy", reason: .expired).failure
        #expect(TLSError.layerBelow(inner).failure == inner)
        #expect(TLSError.layerBelow(inner).description == inner.description)
        #expect(!TLSError.layerBelow(inner).isTransient)
    }
}
