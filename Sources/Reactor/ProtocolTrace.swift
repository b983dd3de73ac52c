import Synchronization

/// Where a protocol client reports each line it sends and each reply or head line it receives (`--trace`). The client
/// masks what must not be seen (FTP's PASS, HTTP query and header values) before the line reaches the sink; the sink
/// only records. Called on the loop thread of the connection.
@_spi(Internals) public struct ProtocolTrace: Sendable {
    public enum Direction: String, Sendable {
        case sent = ">"
        case received = "<"
    }

    private let sink: @Sendable (_ connection: Int, _ direction: Direction, _ line: String) -> Void

    public init(_ sink: @escaping @Sendable (_ connection: Int, _ direction: Direction, _ line: String) -> Void) {
        self.sink = sink
    }

    public func record(connection: Int, _ direction: Direction, _ line: String) {
        sink(connection, direction, line)
    }

    /// A number for a new connection, unique in this process, so that lines of parallel sessions can be told apart.
    public static func nextConnectionNumber() -> Int {
        counter.add(1, ordering: .relaxed).newValue
    }

    private static let counter = Atomic<Int>(0)
}
