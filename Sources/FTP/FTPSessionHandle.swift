@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// The async face of an `FTPSession`, for use from any thread or Task: Sendable, it carries the session to the loop
/// that owns it (`loop`) for every call. One upload at a time, as on the session.
public struct FTPSessionHandle: Sendable {
    private let session: LoopOwned<FTPSession>

    /// The loop that owns the session: its work runs there.
    public var loop: EventLoopHandle { session.handle }

    init(session: FTPSession) {
        self.session = LoopOwned(session, loop: session.loop)
    }

    /// Connects and logs in on `loop` (from any thread).
    public static func connect(
        on loop: EventLoopHandle, configuration: FTPSession.Configuration
    ) async throws(FTPError) -> FTPSessionHandle {
        let result: Result<FTPSessionHandle, FTPError> = await withCheckedContinuation { continuation in
            let posted = loop.execute { loop in
                FTPSession.connect(loop: loop, configuration: configuration) { result in
                    continuation.resume(returning: result.map { $0.handle })
                }
            }
            if !posted { continuation.resume(returning: .failure(.connect(host: configuration.host, .closed))) }
        }
        return try result.get()
    }

    /// Publishes `bytes` per `plan`, pulling the next chunk only once the data connection takes more (one chunk in
    /// flight). A source that throws aborts the upload (`.aborted`, the temporary file deleted). Cancelling the
    /// calling Task sends ABOR, waits until the temporary file is deleted, then throws `.aborted("cancelled")`; the
    /// source should end on cancellation too (an `HTTPBody` does), as it is not read any more.
    public func upload<Bytes: AsyncSequence>(
        plan: FTPPublishPlan, from bytes: Bytes
    ) async throws(FTPError) -> FTPPublishResult where Bytes.Element == [UInt8] {
        let session = session
        let started: LoopOwned<AsyncUploadWriter>? = await withCheckedContinuation { continuation in
            let posted = session.handle.execute { loop in
                let writer = AsyncUploadWriter()
                writer.upload = session.get(on: loop).upload(plan: plan, delegate: writer)
                continuation.resume(returning: LoopOwned(writer, loop: loop))
            }
            if !posted { continuation.resume(returning: nil) }
        }
        guard let writer = started else {
            throw .connectionClosed(host: "(loop closed)", during: "the upload's start")
        }
        let result = await withTaskCancellationHandler {
            await Self.feed(bytes, to: writer)
        } onCancel: {
            writer.handle.execute { loop in writer.get(on: loop).cancel() }
        }
        return try result.get()
    }

    private static func feed<Bytes: AsyncSequence>(
        _ bytes: Bytes, to writer: LoopOwned<AsyncUploadWriter>
    ) async -> Result<FTPPublishResult, FTPError> where Bytes.Element == [UInt8] {
        // The server accepted STOR and the data connection is ready (or the upload already ended).
        if case .success = await onLoop(writer, { writer, done in writer.whenWritable(done) }) {
            do {
                for try await chunk in bytes where !chunk.isEmpty {
                    let written = await onLoop(writer) { writer, done in writer.write(chunk, then: done) }
                    guard case .success = written else { break }
                    if Task.isCancelled { break }
                }
            } catch {
                // A source that failed because this Task was cancelled (an HTTPBody does) is a cancel: ABOR.
                if !Task.isCancelled {
                    let reason = "the source failed: \(error)"
                    writer.handle.execute { loop in writer.get(on: loop).abort(reason) }
                }
            }
        }
        // Posted before `finish`, so that a cancelled upload is never finished as if its bytes were all there (the
        // cancellation handler may not have reached the loop yet; a second cancel does nothing).
        if Task.isCancelled { writer.handle.execute { loop in writer.get(on: loop).cancel() } }
        return await onLoop(writer) { writer, done in writer.finish(then: done) }
    }

    /// Runs `body` with the writer on its loop; `body` resumes through `done`, exactly once.
    private static func onLoop<T: Sendable>(
        _ writer: LoopOwned<AsyncUploadWriter>,
        _ body: @escaping @Sendable (AsyncUploadWriter, @escaping (Result<T, FTPError>) -> Void) -> Void
    ) async -> Result<T, FTPError> {
        await withCheckedContinuation { continuation in
            let posted = writer.handle.execute { loop in
                body(writer.get(on: loop)) { continuation.resume(returning: $0) }
            }
            if !posted {
                continuation.resume(returning: .failure(.connectionClosed(host: "(loop closed)", during: "the upload")))
            }
        }
    }

    /// Says goodbye (QUIT) and closes; returns once the session is closed, or at once when the loop has closed.
    public func quit() async {
        let session = session
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let posted = session.handle.execute { loop in session.get(on: loop).quit { done.resume() } }
            if !posted { done.resume() }
        }
    }
}

extension FTPSession {
    /// A Sendable handle on this session, for async callers on other threads.
    public var handle: FTPSessionHandle {
        loop.assertInLoop()
        return FTPSessionHandle(session: self)
    }
}

/// The loop side of an async upload: the upload's delegate, answering the caller's waits (writable, finished).
final class AsyncUploadWriter: FTPUploadDelegate {
    typealias Done<T> = (Result<T, FTPError>) -> Void

    var upload: FTPUpload?
    private var canWrite = false
    private var stopped = false
    private var result: Result<FTPPublishResult, FTPError>?
    private var writableWaiter: Done<Void>?
    private var finishWaiter: Done<FTPPublishResult>?

    func whenWritable(_ done: @escaping Done<Void>) {
        precondition(writableWaiter == nil, "one write at a time")
        if let failure = ended { return done(.failure(failure)) }
        if canWrite && upload?.isWritable == true { return done(.success(())) }
        writableWaiter = done
    }

    func write(_ chunk: [UInt8], then done: @escaping Done<Void>) {
        if let failure = ended { return done(.failure(failure)) }
        chunk.withUnsafeBytes { upload?.write($0) }
        whenWritable(done)
    }

    /// The bytes are all written (or the upload was stopped): the outcome, once the server has had its say.
    func finish(then done: @escaping Done<FTPPublishResult>) {
        if let result { return done(result) }
        finishWaiter = done
        if !stopped { upload?.finishWriting() }
    }

    func abort(_ reason: String) {
        guard result == nil, !stopped else { return }
        stopped = true
        upload?.abort(reason)
    }

    func cancel() {
        guard result == nil, !stopped else { return }
        stopped = true
        upload?.abort("cancelled", sendABOR: true)
        // A caller waiting to write stops waiting: it goes on to wait for the end.
        answerWritable(.failure(.aborted("cancelled")))
    }

    /// Why writing is over, if it is.
    private var ended: FTPError? {
        if case .failure(let error)? = result { return error }
        return stopped ? .aborted("stopped") : nil
    }

    private func answerWritable(_ answer: Result<Void, FTPError>) {
        let waiter = writableWaiter
        writableWaiter = nil
        waiter?(answer)
    }

    func uploadCanBegin(_ upload: FTPUpload) {
        canWrite = true
        if upload.isWritable { answerWritable(.success(())) }
    }

    func uploadDidBecomeWritable(_ upload: FTPUpload) {
        answerWritable(.success(()))
    }

    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>) {
        self.result = result
        self.upload = nil
        if case .failure(let error) = result {
            answerWritable(.failure(error))
        } else {
            answerWritable(.failure(.aborted("the upload ended")))
        }
        let waiter = finishWaiter
        finishWaiter = nil
        waiter?(result)
    }
}
