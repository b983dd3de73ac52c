@_spi(Internals) import Reactor

extension RunLog {
    /// Under `trace`, a sink that logs each line a protocol client reports as a TRACE `trace` event:
    /// `trace conn=N proto=ftp|http dir=>|< line="…"`. Nil otherwise, so that clients skip the work.
    func traceSink(protocol name: String, loop: EventLoop) -> ProtocolTrace? {
        guard trace else { return nil }
        let target = TraceTarget(log: self, loop: loop)
        return ProtocolTrace { connection, direction, line in
            target.loop.assertInLoop()
            target.log.event(.trace, source: nil, "trace", Self.traceFields(name, connection, direction, line))
        }
    }

    static func traceFields(
        _ name: String, _ connection: Int, _ direction: ProtocolTrace.Direction, _ line: String
    ) -> [RunEvent.Field] {
        [
            .init("conn", .integer(Int64(connection))), .init("proto", .text(name)),
            .init("dir", .text(direction.rawValue)), .init("line", .text(line)),
        ]
    }
}

/// @unchecked Sendable: ProtocolTrace calls its sink on the loop thread of the connection, and the run's connections
/// all live on the loop that owns the log (asserted at each call).
private final class TraceTarget: @unchecked Sendable {
    let log: RunLog
    let loop: EventLoop

    init(log: RunLog, loop: EventLoop) {
        self.log = log
        self.loop = loop
    }
}
