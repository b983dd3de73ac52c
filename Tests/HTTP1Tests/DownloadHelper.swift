import Foundation
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport

/// What one download through the client gave.
struct Download: Sendable {
    var body = Data()
    var head: HTTPResponseHead?
    var result: Result<HTTPResponseSummary, HTTPError>?
    var bytesWhilePaused = 0

    var error: HTTPError? {
        if case .failure(let error)? = result { return error }
        return nil
    }
}

/// Collects a response; can pause for a while after the head to check that nothing arrives meanwhile.
final class Collector: HTTPResponseDelegate {
    var download = Download()
    var pauseAfterHeadMS: Int?
    var paused = false
    var keepBody = true
    var onFinish: (Download) -> Void = { _ in }

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        download.head = head
        if let pause = pauseAfterHeadMS {
            task.pause()
            paused = true
            task.eventLoop.scheduleTimer(afterMilliseconds: pause) {
                self.paused = false
                task.resume()
            }
        }
    }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        if paused { download.bytesWhilePaused += bytes.count }
        if keepBody { download.body.append(contentsOf: bytes) }
    }

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        download.result = result
        onFinish(download)
    }
}

func testClientConfiguration() -> HTTPClient.Configuration {
    var configuration = HTTPClient.Configuration()
    configuration.tls = .client(additionalCAFile: TestEnv.caFile)
    configuration.connectTimeoutMS = 5_000
    configuration.idleTimeoutMS = 5_000
    return configuration
}

/// Runs `urls` one after another through one client (so keep-alive can be seen) and returns each download.
func downloads(
    _ urls: [String], configuration: HTTPClient.Configuration = testClientConfiguration(),
    headers: HTTPHeaders = HTTPHeaders(), pauseAfterHeadMS: Int? = nil, timeoutMS: Int = 60_000
) async throws -> [Download] {
    try await onLoop(timeoutMS: timeoutMS) { loop, done in
        let client = HTTPClient(loop: loop, configuration: configuration)
        var results: [Download] = []
        func next(_ index: Int) {
            guard index < urls.count else {
                client.close()
                return done(.success(results))
            }
            let collector = Collector()
            collector.pauseAfterHeadMS = pauseAfterHeadMS
            collector.onFinish = { download in
                results.append(download)
                next(index + 1)
            }
            do {
                client.request(try HTTPURL(urls[index]), headers: headers, delegate: collector)
            } catch {
                var failed = Download()
                failed.result = .failure(.invalidURL(error))
                results.append(failed)
                next(index + 1)
            }
        }
        next(0)
    }
}

func download(
    _ url: String, configuration: HTTPClient.Configuration = testClientConfiguration(),
    headers: HTTPHeaders = HTTPHeaders(), pauseAfterHeadMS: Int? = nil
) async throws -> Download {
    try await downloads([url], configuration: configuration, headers: headers, pauseAfterHeadMS: pauseAfterHeadMS)[0]
}

var httpBase: String { "http://127.0.0.1:\(TestEnv.httpPort)" }
var httpsBase: String { "https://localhost:\(TestEnv.httpsPort)" }

func wwwFile(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: TestEnv.wwwDirectory + "/" + name))
}
