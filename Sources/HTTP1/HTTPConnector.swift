@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// Opens the stream a request goes over: straight to the origin (TCP, then TLS for https), to a forward proxy (http
/// URLs, absolute-form requests), or through a proxy's CONNECT tunnel (https URLs: TLS end to end with the origin).
/// One value is one attempt: what each step of getting there needs.
struct HTTPConnector {
    typealias Completion = (Result<any ByteStream, HTTPError>) -> Void

    let client: HTTPClient
    let url: HTTPURL
    let proxy: HTTPURL?
    /// Bounds each step of getting there (TCP connect, CONNECT answer, TLS handshake): the client's connect timeout,
    /// or less when the request may not stay silent that long — a peer that accepts and then says nothing must fail
    /// the attempt as soon as one that says nothing mid-body does.
    let timeoutMS: Int
    /// The connection's number in the protocol trace (0 when untraced): the CONNECT exchange is traced under it.
    let traceConnection: Int

    func open(completion: @escaping Completion) {
        let options = TCPConnector.Options(connectTimeoutMS: timeoutMS, limits: client.configuration.tcp)
        let target = proxy ?? url
        TCPConnector(loop: client.loop, options: options).connect(host: target.host, port: target.port) { result in
            switch result {
            case .failure(let error):
                if let proxy {
                    completion(.failure(.proxy(url: url.redacted, reason: "cannot reach \(proxy.redacted): \(error)")))
                } else if case .connectTimeout = error {
                    completion(
                        .failure(.timeout(url: url.redacted, phase: .connect, milliseconds: options.connectTimeoutMS)))
                } else {
                    completion(.failure(.connect(url: url.redacted, error)))
                }
            case .success(let tcp):
                if let proxy {
                    viaProxy(tcp, proxy: proxy, completion: completion)
                } else if url.scheme == .https {
                    startTLS(over: tcp, to: url, completion: completion)
                } else {
                    completion(.success(tcp))
                }
            }
        }
    }

    private func viaProxy(_ tcp: TCPConnection, proxy: HTTPURL, completion: @escaping Completion) {
        // An https proxy speaks TLS itself first; the tunnel (or request) then runs inside that.
        let toProxy: (@escaping (any ByteStream) -> Void) -> Void = { next in
            guard proxy.scheme == .https else { return next(tcp) }
            startTLS(over: tcp, to: proxy) { result in
                switch result {
                case .success(let stream): next(stream)
                case .failure(let error):
                    completion(.failure(.proxy(url: url.redacted, reason: "TLS to \(proxy.redacted): \(error)")))
                }
            }
        }
        toProxy { stream in
            guard url.scheme == .https else { return completion(.success(stream)) }
            Tunnel(stream: stream, connector: self, proxy: proxy) { result in
                switch result {
                case .success(let tunnel):
                    startTLS(over: tunnel, to: url, completion: completion)
                case .failure(let error):
                    completion(.failure(error))
                }
            }.start()
        }
    }

    /// TLS with `server` (the origin, or an https proxy) over `stream`.
    private func startTLS(over stream: any ByteStream, to server: HTTPURL, completion: @escaping Completion) {
        switch client.tlsContext() {
        case .failure(let error):
            stream.close()
            completion(.failure(.tls(url: server.redacted, error)))
        case .success(let context):
            TLSStream.connect(
                over: stream, context: context, serverName: server.host,
                handshakeTimeoutMS: timeoutMS
            ) { result in
                switch result {
                case .success(let tls): completion(.success(tls))
                case .failure(let error): completion(.failure(.tls(url: server.redacted, error)))
                }
            }
        }
    }

    /// `Proxy-Authorization` for a proxy URL with credentials (sent to the proxy only, never logged).
    static func proxyAuthorization(_ proxy: HTTPURL) -> String? {
        guard let user = proxy.user else { return nil }
        return HTTPRequestEncoder.basicAuthorization(user: user, password: proxy.password ?? "")
    }
}

/// One CONNECT exchange (RFC 9110 §9.3.6): asks the proxy for a tunnel to the origin and hands the stream back once
/// the proxy answered 2xx. Bytes after the proxy's answer would belong to the tunnel, but the origin cannot speak
/// first in TLS, so any are a protocol error.
private final class Tunnel: ByteStreamDelegate {
    private let stream: any ByteStream
    /// The attempt this tunnel is a step of: the client, the origin's URL and the timeout.
    private let connector: HTTPConnector
    private let proxy: HTTPURL
    private var completion: HTTPConnector.Completion?
    private var parser = HTTPResponseParser(requestMethod: "CONNECT")
    private var status = 0
    private var timer: TimerID?

    init(
        stream: any ByteStream, connector: HTTPConnector, proxy: HTTPURL,
        completion: @escaping HTTPConnector.Completion
    ) {
        self.stream = stream
        self.connector = connector
        self.proxy = proxy
        self.completion = completion
    }

    private var url: HTTPURL { connector.url }
    private var client: HTTPClient { connector.client }

    func start() {
        var headers = HTTPHeaders()
        if let authorization = HTTPConnector.proxyAuthorization(proxy) {
            headers.add("Proxy-Authorization", authorization)
        }
        let authority = "\(url.isIPv6 ? "[\(url.host)]" : url.host):\(url.port)"
        do {
            let request = try HTTPRequestEncoder.encode(
                method: "CONNECT", target: authority, authority: authority, userAgent: client.configuration.userAgent,
                headers: headers)
            stream.delegate = self
            stream.write(request)
            client.configuration.trace?.recordRequest(request, connection: connector.traceConnection)
        } catch {
            return finish(.failure(.invalidRequest("\(error)")))
        }
        let ms = connector.timeoutMS
        // The timer's closure keeps this exchange alive until it ends.
        timer = client.loop.scheduleTimer(afterMilliseconds: ms) {
            self.timer = nil
            self.finish(.failure(.timeout(url: self.url.redacted, phase: .connect, milliseconds: ms)))
        }
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        do {
            let consumed = try parser.feed(bytes) { event in
                if case .head(let head) = event {
                    status = head.status
                    client.configuration.trace?.recordHead(head, connection: connector.traceConnection)
                }
                return true
            }
            if parser.isComplete && consumed < bytes.count {
                return finish(
                    .failure(.proxy(url: url.redacted, reason: "the proxy sent data before the tunnel opened")))
            }
        } catch {
            return finish(.failure(.proxy(url: url.redacted, reason: "invalid answer to CONNECT: \(error)")))
        }
        guard parser.isComplete || status >= 300 else { return }
        if (200..<300).contains(status) {
            finish(.success(stream))
        } else {
            let reason =
                status == 407
                ? "the proxy wants credentials (407): put them in the proxy URL" : "CONNECT answered \(status)"
            finish(.failure(.proxy(url: url.redacted, reason: reason)))
        }
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        finish(.failure(.proxy(url: url.redacted, reason: "the proxy closed the connection during CONNECT")))
    }

    private func finish(_ result: Result<any ByteStream, HTTPError>) {
        guard let completion else { return }
        self.completion = nil
        if let timer { client.loop.cancelTimer(timer) }
        timer = nil
        stream.delegate = nil
        if case .failure = result { stream.close() }
        completion(result)
    }
}
