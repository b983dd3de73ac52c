/// Asking the server for a passive data port, the one step uploads and listings share: EPSV (RFC 2428 §3) first,
/// PASV (RFC 959 §4.1.1) where EPSV is refused for good. A 5xx to EPSV (not implemented, not allowed) or a 229 that
/// names no port falls back to PASV; a 4xx is the server's temporary trouble and fails the operation as transient,
/// like any 4xx. The session remembers a fallback (`Outcome.fallBack`), so that on a PASV-only server later data
/// connections start with PASV and cost no extra round trip.
@_spi(Internals) public struct FTPPassiveStep: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        /// Connect the data channel to `port` (on the control connection's peer; `announcedHost` is what PASV said).
        case openData(port: Int, announcedHost: String?)
        /// EPSV was refused for good: send this (PASV) instead, and skip EPSV on this session from now on.
        case fallBack(FTPCommand)
        case failed(FTPError)
    }

    /// True while EPSV is the command in flight.
    public private(set) var extended: Bool

    public init(tryEPSV: Bool) {
        extended = tryEPSV
    }

    /// The command to send.
    public var command: FTPCommand { extended ? Self.epsv : Self.pasv }

    public mutating func handle(_ reply: FTPReply) -> Outcome {
        guard extended else {
            guard reply.code == FTPCode.enteringPassive, let (host, port) = PassiveReply.parse227(reply.message) else {
                return .failed(Self.refused(Self.pasv, reply))
            }
            return .openData(port: port, announcedHost: host)
        }
        if reply.code == FTPCode.enteringExtendedPassive, let port = PassiveReply.parse229(reply.message) {
            return .openData(port: port, announcedHost: nil)
        }
        guard reply.isPermanentNegative || reply.code == FTPCode.enteringExtendedPassive else {
            return .failed(Self.refused(Self.epsv, reply))
        }
        extended = false
        return .fallBack(Self.pasv)
    }

    private static func refused(_ command: FTPCommand, _ reply: FTPReply) -> FTPError {
        .reply(command: command.description, code: reply.code, text: reply.message)
    }

    private static let epsv = FTPCommand(constant: "EPSV")
    private static let pasv = FTPCommand(constant: "PASV")
}

/// The actions of a machine that takes the passive step (publish, listing): its `Action` has these cases, which
/// satisfy the requirements, so that an outcome turns into the machine's actions in one place.
protocol FTPPassiveActions {
    static func send(_ command: FTPCommand) -> Self
    static func openData(port: Int, announcedHost: String?) -> Self
    static var epsvRefused: Self { get }
    static func failed(_ error: FTPError) -> Self
}

extension FTPPassiveStep.Outcome {
    /// What the machine does: connect, or remember the refusal and send PASV, or fail.
    func actions<Action: FTPPassiveActions>() -> [Action] {
        switch self {
        case .openData(let port, let announced): return [.openData(port: port, announcedHost: announced)]
        case .fallBack(let command): return [.epsvRefused, .send(command)]
        case .failed(let error): return [.failed(error)]
        }
    }

    /// The machine's state after this outcome: still `asking` (the step, changed), `connecting` to the port, or
    /// `failed` (done).
    func next<State>(asking: State, connecting: State, failed: State) -> State {
        switch self {
        case .openData: return connecting
        case .fallBack: return asking
        case .failed: return failed
        }
    }
}
