import Foundation
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

@Suite("Buffers sized by role: large only while a body streams")
struct BufferRoleTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .nginxHTTPS)
    }

    @Test("a pooled connection holds ≤ 16 KiB after a 718 KiB body went through it", arguments: ["http", "https"])
    func pooledConnectionIsSmall(scheme: String) async throws {
        let url = try HTTPURL((scheme == "http" ? httpBase : httpsBase) + "/large.csv")
        let (download, idle) = try await onLoop { loop, done in
            let client = HTTPClient(loop: loop, configuration: testClientConfiguration())
            let collector = Collector()
            collector.onFinish = { download in
                // The body ends inside a read: the buffers shrink once that read's delivery returns.
                loop.scheduleTimer(afterMilliseconds: 0) {
                    let idle = client.idleConnectionBufferBytes
                    client.close()
                    done(.success((download, idle)))
                }
            }
            client.request(url, delegate: collector)
        }
        #expect(download.body == (try wwwFile("large.csv")))
        #expect(idle.count == 1)
        #expect(idle.allSatisfy { $0 <= 16 * 1024 }, "idle connection buffers: \(idle)")
    }

    @Test("a TLS stream grows its buffers for a transfer and gives them back after it")
    func tlsStreamRoles() async throws {
        let context = try TLSContext(.client(additionalCAFile: TestEnv.caFile))
        let sizes: [Int] = try await onLoop { loop, done in
            TLSStream.connect(loop: loop, host: "localhost", port: TestEnv.httpsPort, context: context) { result in
                switch result {
                case .failure(let error):
                    done(.failure(TestFailure("\(error)")))
                case .success(let stream):
                    // The handshake ends inside a read: a new role takes effect once that read's delivery returns.
                    var sizes: [Int] = []
                    func measure(then next: @escaping () -> Void) {
                        loop.scheduleTimer(afterMilliseconds: 0) {
                            sizes.append(stream.heldBufferBytes)
                            next()
                        }
                    }
                    measure {
                        stream.role = .receiving
                        measure {
                            stream.role = .control
                            measure {
                                stream.close()
                                done(.success(sizes))
                            }
                        }
                    }
                }
            }
        }
        #expect(sizes[0] <= 16 * 1024, "after the handshake: \(sizes)")
        #expect(sizes[1] >= 512 * 1024, "receiving: 256 KiB reads and 256 KiB plaintext: \(sizes)")
        #expect(sizes[2] <= 16 * 1024, "back to control: \(sizes)")
    }
}
