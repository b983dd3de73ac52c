@_spi(Internals) import Reactor

/// The HTTP lines a trace records, masked by `HTTPTraceMask` before they reach the sink.
extension ProtocolTrace {
    /// A request as sent, line by line, masked (the encoder let no CR or LF into a value, so the split is exact).
    func recordRequest(_ request: [UInt8], connection: Int) {
        let lines = String(decoding: request, as: UTF8.self).split(separator: "\r\n").map(String.init)
        guard let first = lines.first else { return }
        record(connection: connection, .sent, HTTPTraceMask.requestLine(first))
        for line in lines.dropFirst() { record(connection: connection, .sent, HTTPTraceMask.headerLine(line)) }
    }

    /// A response head as received, masked.
    func recordHead(_ head: HTTPResponseHead, connection: Int) {
        let status = "HTTP/\(head.version.major).\(head.version.minor) \(head.status)"
        record(connection: connection, .received, head.reason.isEmpty ? status : "\(status) \(head.reason)")
        for field in head.headers.fields {
            record(connection: connection, .received, HTTPTraceMask.headerLine(name: field.name, value: field.value))
        }
    }
}
