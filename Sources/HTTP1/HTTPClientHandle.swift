@_spi(Internals) import Reactor

/// The async face of an `HTTPClient`, for use from any thread or Task: Sendable, it carries the client to the loop
/// that owns it (`loop`) for every call. The client stays loop-bound; its delegate API is unchanged.
public struct HTTPClientHandle: Sendable {
    private let client: LoopOwned<HTTPClient>

    /// The loop that owns the client: its work runs there.
    public var loop: EventLoopHandle { client.handle }

    init(client: HTTPClient) {
        self.client = LoopOwned(client, loop: client.loop)
    }

    /// Makes a client on `loop` (from any thread). Throws `.closed` when the loop has closed.
    public init(on loop: EventLoopHandle, configuration: HTTPClient.Configuration = .init()) async throws(ReactorError)
    {
        let made: HTTPClientHandle? = await withCheckedContinuation { continuation in
            let posted = loop.execute { loop in
                continuation.resume(returning: HTTPClient(loop: loop, configuration: configuration).handle)
            }
            if !posted { continuation.resume(returning: nil) }
        }
        guard let made else { throw .closed }
        self = made
    }

    /// Sends `request` and returns the final head once it is in (after redirects), with the body still to read: see
    /// `HTTPBody`. Cancelling the calling Task cancels the request (`.cancelled`).
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let channel = BodyChannel(handle: client.handle)
        // The owner exists from the start, so that a response nobody takes (the Task was cancelled) is cancelled too.
        let owner = BodyOwner(channel: channel)
        let client = client
        let head = await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Result<HTTPResponseHead, HTTPError>, Never>) in
                channel.waitForHead(waiter)
                let posted = client.handle.execute { loop in
                    guard !channel.isEnded else { return }
                    let responder = AsyncResponse(channel: channel)
                    channel.responder = responder
                    responder.task = client.get(on: loop).request(
                        request.url, method: request.method, headers: request.headers, body: request.body,
                        idleTimeoutMS: request.idleTimeoutMS, acceptsAnyStatus: request.acceptsAnyStatus,
                        delegate: responder)
                }
                if !posted { channel.finish(.failure(.connect(url: request.url.redacted, .closed))) }
            }
        } onCancel: {
            channel.cancel()
        }
        return HTTPResponse(head: try head.get(), body: HTTPBody(owner: owner))
    }

    /// Cancels what is in flight and closes every pooled connection; a request made afterwards still runs, on a
    /// connection closed when it ends (never pooled). Returns once done, or at once when the loop has closed (which
    /// closed everything).
    public func shutdown() async {
        let client = client
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let posted = client.handle.execute { loop in
                client.get(on: loop).close()
                done.resume()
            }
            if !posted { done.resume() }
        }
    }
}

extension HTTPClient {
    /// A Sendable handle on this client, for async callers on other threads.
    public var handle: HTTPClientHandle {
        loop.assertInLoop()
        return HTTPClientHandle(client: self)
    }
}
