import Reactor
import TLS

/// Opens the stream a request goes over: straight to the origin (TCP, then TLS for https), to a forward proxy (http
/// URLs, absolute-form requests), or through a proxy's CONNECT tunnel (https URLs: TLS end to end with the origin).
enum HTTPConnector {
    typealias Completion = (Result<any ByteStream, HTTPError>) -> Void

    /// `timeoutMS` bounds each step of getting there (TCP connect, CONNECT answer, TLS handshake): the client's
    /// connect timeout, or less when the request may not stay silent that long — a peer that accepts and then says
    /// nothing must fail the attempt as soon as one that says nothing mid-body does.
    static func open(
        client: HTTPClient, url: HTTPURL, proxy: HTTPURL?, timeoutMS: Int, completion: @escaping Completion
    ) {
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
                    viaProxy(tcp, client: client, url: url, proxy: proxy, timeoutMS: timeoutMS, completion: completion)
                } else if url.scheme == .https {
                    startTLS(
                        over: tcp, client: client, url: url, serverName: url.host, timeoutMS: timeoutMS,
                        completion: completion)
                } else {
                    completion(.success(tcp))
                }
            }
        }
    }

    private static func viaProxy(
        _ tcp: TCPConnection, client: HTTPClient, url: HTTPURL, proxy: HTTPURL, timeoutMS: Int,
        completion: @escaping Completion
    ) {
        // An https proxy speaks TLS itself first; the tunnel (or request) then runs inside that.
        let toProxy: (@escaping (any ByteStream) -> Void) -> Void = { next in
            guard proxy.scheme == .https else { return next(tcp) }
            startTLS(over: tcp, client: client, url: proxy, serverName: proxy.host, timeoutMS: timeoutMS) { result in
                switch result {
                case .success(let stream): next(stream)
                case .failure(let error):
                    completion(.failure(.proxy(url: url.redacted, reason: "TLS to \(proxy.redacted): \(error)")))
                }
            }
        }
        toProxy { stream in
            guard url.scheme == .https else { return completion(.success(stream)) }
            Tunnel(stream: stream, client: client, url: url, proxy: proxy, timeoutMS: timeoutMS) { result in
                switch result {
                case .success(let tunnel):
                    startTLS(
                        over: tunnel, client: client, url: url, serverName: url.host, timeoutMS: timeoutMS,
                        completion: completion)
                case .failure(let error):
                    completion(.failure(error))
                }
            }.start()
        }
    }

    static func startTLS(
        over stream: any ByteStream, client: HTTPClient, url: HTTPURL, serverName: String, timeoutMS: Int,
        completion: @escaping Completion
    ) {
        switch client.tlsContext() {
        case .failure(let error):
            stream.close()
            completion(.failure(.tls(url: url.redacted, error)))
        case .success(let context):
            TLSStream.connect(
                over: stream, context: context, serverName: serverName,
                handshakeTimeoutMS: timeoutMS
            ) { result in
                switch result {
                case .success(let tls): completion(.success(tls))
                case .failure(let error): completion(.failure(.tls(url: url.redacted, error)))
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
    private let client: HTTPClient
    private let url: HTTPURL
    private let proxy: HTTPURL
    private var completion: ((Result<any ByteStream, HTTPError>) -> Void)?
    private var parser = HTTPResponseParser(requestMethod: "CONNECT")
    private var status = 0
    private var timer: TimerID?
    private let timeoutMS: Int

    init(
        stream: any ByteStream, client: HTTPClient, url: HTTPURL, proxy: HTTPURL, timeoutMS: Int,
        completion: @escaping (Result<any ByteStream, HTTPError>) -> Void
    ) {
        self.stream = stream
        self.client = client
        self.url = url
        self.proxy = proxy
        self.timeoutMS = timeoutMS
        self.completion = completion
    }

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
        } catch {
            return finish(.failure(.invalidRequest("\(error)")))
        }
        let ms = timeoutMS
        // The timer's closure keeps this exchange alive until it ends.
        timer = client.loop.scheduleTimer(afterMilliseconds: ms) {
            self.timer = nil
            self.finish(.failure(.timeout(url: self.url.redacted, phase: .connect, milliseconds: ms)))
        }
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        do {
            let consumed = try parser.feed(bytes) { event in
                if case .head(let head) = event { status = head.status }
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
