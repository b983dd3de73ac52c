// The HTTP client alone: streams one URL's body to stdout, on an event loop run on this thread.
// usage: HTTPExample URL
import ExampleSupport
import Glibc
import WebToFTP

// `HTTPClient` and `EventLoop` are also names in SwiftNIO and AsyncHTTPClient: a program that imports those too
// writes `WebToFTP.HTTPClient` and `WebToFTP.EventLoop`, as here.
final class BodyPrinter: HTTPResponseDelegate {
    let loop: WebToFTP.EventLoop
    var failure: HTTPError?

    init(loop: WebToFTP.EventLoop) { self.loop = loop }

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        printError("HTTP \(head.status) \(head.reason)\n")
    }

    // The bytes are valid during the call only: write them out (or copy them) now.
    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        writeAll(bytes, to: 1)
    }

    // Called exactly once, on the loop thread, after which the loop may stop.
    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        switch result {
        case .success(let summary): printError("\(summary.bodyBytes) bytes from \(summary.finalURL)\n")
        case .failure(let error): failure = error
        }
        loop.stop()
    }
}

guard CommandLine.arguments.count == 2 else {
    printError("usage: HTTPExample URL\n")
    exit(2)
}
do {
    let url = try HTTPURL(CommandLine.arguments[1])
    let loop = try WebToFTP.EventLoop()
    let client = WebToFTP.HTTPClient(loop: loop)
    let printer = BodyPrinter(loop: loop)
    client.request(url, delegate: printer)
    try loop.run()
    client.close()
    loop.close()
    if let failure = printer.failure {
        printError("HTTPExample: \(failure)\n")
        exit(1)
    }
} catch {
    printError("HTTPExample: \(error)\n")
    exit(1)
}
