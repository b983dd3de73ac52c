@_spi(Internals) import Reactor

/// Hears the task's stream for it, so that the public `HTTPTask` need not conform to `ByteStreamDelegate` (our own
/// packages' protocol, `@_spi(Internals)`). The task holds it; the stream holds it weakly, as it held the task.
final class HTTPTaskStreamEvents: ByteStreamDelegate {
    unowned let task: HTTPTask

    init(task: HTTPTask) { self.task = task }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) { task.stream(stream, didRead: bytes) }

    func streamDidBecomeWritable(_ stream: any ByteStream) { task.streamDidBecomeWritable(stream) }

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) { task.stream(stream, didEnd: end) }
}
