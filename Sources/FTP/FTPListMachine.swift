/// Reading a name listing (`NLST -a`, so that vsftpd shows dot-files) as a pure state machine: EPSV (or PASV, see
/// `FTPPassiveStep`) → data connection → NLST → the names → 226. A directory that does not exist lists as empty.
@_spi(Internals) public struct FTPListMachine: FTPDataMachine {
    public enum Event: Equatable, FTPReplyEvent {
        case reply(FTPReply)
        case dataConnected
        /// The server closed the data connection after sending the listing (given whole).
        case dataFinished(String)
        case dataFailed(String)
    }

    public enum Action: Equatable, FTPPassiveActions {
        case send(FTPCommand)
        case openData(port: Int, announcedHost: String?)
        /// The server refused EPSV for good: later data connections on this session go straight to PASV.
        case epsvRefused
        case listed([String])
        case failed(FTPError)
    }

    /// NLST is in flight: its final reply and the data connection's end (whole or broken) arrive in any order.
    private struct Listing {
        var reply: FTPReply?
        var text: String?
        var failure: String?
    }

    private enum State {
        case passive(FTPPassiveStep)
        case awaitingData
        case listing(Listing)
        case done
    }

    private let directory: String
    private let host: String
    private var state: State

    public init(directory: String, host: String, tryEPSV: Bool = true) {
        self.directory = directory
        self.host = host
        state = .passive(FTPPassiveStep(tryEPSV: tryEPSV))
    }

    public mutating func start() -> [Action] {
        guard case .passive(let step) = state else { return [] }
        return [.send(step.command)]
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.passive(var step), .reply(let reply)):
            let outcome = step.handle(reply)
            state = outcome.next(asking: .passive(step), connecting: .awaitingData, failed: .done)
            return outcome.actions()
        case (.awaitingData, .dataConnected):
            state = .listing(Listing())
            return send("NLST", directory.isEmpty ? "-a" : "-a \(directory)")
        case (.awaitingData, .dataFailed(let reason)):
            return finish(.failed(.dataConnection(host: host, reason: reason)))
        case (.listing(var listing), .reply(let reply)):
            if reply.isPreliminary { return [] }
            if reply.code == 450 || reply.code == FTPCode.fileUnavailable { return finish(.listed([])) }
            listing.reply = reply
            return maybeDone(listing)
        case (.listing(var listing), .dataFinished(let text)):
            listing.text = text
            return maybeDone(listing)
        case (.listing(var listing), .dataFailed(let reason)):
            // proftpd resets the data connection of an NLST whose directory does not exist, then answers 450: the
            // reply decides whether this was a failure or an empty listing.
            listing.failure = reason
            return maybeDone(listing)
        default:
            return []
        }
    }

    /// Once the final reply and the data connection's end (whole or broken) are both in.
    private mutating func maybeDone(_ listing: Listing) -> [Action] {
        state = .listing(listing)
        guard let reply = listing.reply, listing.text != nil || listing.failure != nil else { return [] }
        guard reply.isPositive else {
            return finish(.failed(.reply(command: "NLST", code: reply.code, text: reply.message)))
        }
        guard let text = listing.text else {
            return finish(.failed(.dataConnection(host: host, reason: listing.failure ?? "")))
        }
        // One name per line; some servers prefix the directory: keep the last path component.
        let names = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).compactMap { line in
            line.split(separator: "/").last.map(String.init)
        }.filter { $0 != "." && $0 != ".." }
        return finish(.listed(names))
    }

    private mutating func finish(_ action: Action) -> [Action] {
        state = .done
        return [action]
    }

    private mutating func send(_ verb: String, _ argument: String? = nil) -> [Action] {
        do {
            return [.send(try FTPCommand(verb, argument))]
        } catch {
            return finish(.failed(error))
        }
    }
}
