/// Reading a name listing (`NLST -a`, so that vsftpd shows dot-files) as a pure state machine: EPSV (or PASV) →
/// data connection → NLST → the names → 226. A directory that does not exist lists as empty.
public struct FTPListMachine {
    public enum Event: Equatable {
        case reply(FTPReply)
        case dataConnected
        /// The server closed the data connection after sending the listing (given whole).
        case dataFinished(String)
        case dataFailed(String)
    }

    public enum Action: Equatable {
        case send(FTPCommand)
        case openData(port: Int, announcedHost: String?)
        case listed([String])
        case failed(FTPError)
    }

    private enum State { case epsv, pasv, awaitingData, listing, done }

    private let directory: String
    private let host: String
    private var state: State
    private var finalReply: FTPReply?
    private var listing: String?
    private var dataFailure: String?

    public init(directory: String, host: String, tryEPSV: Bool = true) {
        self.directory = directory
        self.host = host
        state = tryEPSV ? .epsv : .pasv
    }

    public mutating func start() -> [Action] {
        send(state == .epsv ? "EPSV" : "PASV")
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.epsv, .reply(let reply)):
            if reply.code == FTPCode.enteringExtendedPassive, let port = PassiveReply.parse229(reply.message) {
                state = .awaitingData
                return [.openData(port: port, announcedHost: nil)]
            }
            state = .pasv
            return send("PASV")
        case (.pasv, .reply(let reply)):
            guard reply.code == FTPCode.enteringPassive, let (host, port) = PassiveReply.parse227(reply.message) else {
                return finish(.failed(.reply(command: "PASV", code: reply.code, text: reply.message)))
            }
            state = .awaitingData
            return [.openData(port: port, announcedHost: host)]
        case (.awaitingData, .dataConnected):
            state = .listing
            return send("NLST", directory.isEmpty ? "-a" : "-a \(directory)")
        case (.awaitingData, .dataFailed(let reason)):
            return finish(.failed(.dataConnection(host: host, reason: reason)))
        case (.listing, .reply(let reply)):
            if reply.isPreliminary { return [] }
            if reply.code == 450 || reply.code == FTPCode.fileUnavailable { return finish(.listed([])) }
            finalReply = reply
            return maybeDone()
        case (.listing, .dataFinished(let text)):
            listing = text
            return maybeDone()
        case (.listing, .dataFailed(let reason)):
            // proftpd resets the data connection of an NLST whose directory does not exist, then answers 450: the
            // reply decides whether this was a failure or an empty listing.
            dataFailure = reason
            return maybeDone()
        default:
            return []
        }
    }

    /// Once the final reply and the data connection's end (whole or broken) are both in.
    private mutating func maybeDone() -> [Action] {
        guard let reply = finalReply, listing != nil || dataFailure != nil else { return [] }
        guard reply.isPositive else {
            return finish(.failed(.reply(command: "NLST", code: reply.code, text: reply.message)))
        }
        guard let listing else { return finish(.failed(.dataConnection(host: host, reason: dataFailure ?? ""))) }
        // One name per line; some servers prefix the directory: keep the last path component.
        let names = listing.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).compactMap { line in
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
