/// How the control connection is protected.
public enum FTPSecurity: String, Sendable {
    /// AUTH TLS after the banner (RFC 4217): the default.
    case explicitTLS = "explicit"
    /// TLS from the first byte (port 990 by convention).
    case implicitTLS = "implicit"
    /// Plaintext: only when asked for by name, and warned about.
    case none
}

/// What the server said it supports (FEAT, RFC 2389), as upper-case feature names.
@_spi(Internals) public struct FTPFeatures: Equatable, Sendable {
    public var names: Set<String> = []
    /// Each feature's parameters as the server wrote them (`REST` → `STREAM`), when it gave any.
    public var parameters: [String: String] = [:]
    @_spi(Internals) public init(_ names: Set<String> = [], parameters: [String: String] = [:]) {
        self.names = names
        self.parameters = parameters
    }
    public func has(_ name: String) -> Bool { names.contains(name) }

    /// REST STREAM (RFC 3659 §5): the server may resume a STOR at an offset; a resumed upload needs it and SIZE.
    public var restartsStreams: Bool {
        parameters["REST"].map { $0.uppercased().split(separator: " ").contains("STREAM") } ?? false
    }
}

/// The login conversation as a pure state machine: replies and TLS completion in, commands and steps out.
/// banner → [AUTH TLS → TLS → PBSZ 0 → PROT P] → USER → PASS → FEAT → [OPTS UTF8 ON] → TYPE I.
@_spi(Internals) public struct FTPLoginMachine {
    public enum Event: Equatable {
        case reply(FTPReply)
        case tlsEstablished
    }

    public enum Action: Equatable {
        case send(FTPCommand)
        /// Stack TLS on the control connection now (after 234).
        case startTLS
        case loggedIn(FTPFeatures)
        case failed(FTPErrorSummary)
    }

    private enum State: Equatable {
        case banner, authTLS, awaitingTLS, pbsz, prot, user, pass, feat, utf8, type, done
    }

    private let user: String
    private let password: String
    private let security: FTPSecurity
    private var state = State.banner
    private var features = FTPFeatures()

    public init(user: String, password: String, security: FTPSecurity) {
        self.user = user
        self.password = password
        self.security = security
    }

    public var isDone: Bool { state == .done }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.awaitingTLS, .tlsEstablished):
            return send(.pbsz, "PBSZ", "0")
        case (_, .tlsEstablished):
            return fail("TLS", FTPReply(code: 0, lines: ["TLS came up at an unexpected point"]))
        case (_, .reply(let reply)):
            return handle(reply)
        }
    }

    private mutating func handle(_ reply: FTPReply) -> [Action] {
        switch state {
        case .banner:
            if reply.code == FTPCode.serviceReadyInMinutes { return [] }
            guard reply.code == FTPCode.serviceReady else { return fail("(connect)", reply) }
            switch security {
            case .explicitTLS: return send(.authTLS, "AUTH", "TLS")
            case .implicitTLS: return send(.pbsz, "PBSZ", "0")
            case .none: return send(.user, "USER", user)
            }
        case .authTLS:
            // Never fall back to plaintext: a server that refuses TLS gets no password.
            guard reply.code == FTPCode.securityExchangeDone else { return fail("AUTH TLS", reply) }
            state = .awaitingTLS
            return [.startTLS]
        case .pbsz:
            guard reply.isPositive else { return fail("PBSZ 0", reply) }
            return send(.prot, "PROT", "P")
        case .prot:
            guard reply.isPositive else { return fail("PROT P", reply) }
            return send(.user, "USER", user)
        case .user:
            if reply.code == FTPCode.loggedIn { return send(.feat, "FEAT") }
            guard reply.code == FTPCode.needPassword else { return fail("USER \(user)", reply) }
            return send(.pass, "PASS", password)
        case .pass:
            guard reply.code == FTPCode.loggedIn || reply.code == 202 else { return fail("PASS ***", reply) }
            return send(.feat, "FEAT")
        case .feat:
            if reply.code == FTPCode.systemStatus {
                // Feature lines sit between the first and the last line, each led by a space (RFC 2389 §3.2).
                for line in reply.lines.dropFirst().dropLast() {
                    let words = line.split(separator: " ", maxSplits: 1)
                    guard let name = words.first?.uppercased() else { continue }
                    features.names.insert(name)
                    if words.count == 2 { features.parameters[name] = String(words[1]) }
                }
            }
            if features.has("UTF8") { return send(.utf8, "OPTS", "UTF8 ON") }
            return send(.type, "TYPE", "I")
        case .utf8:
            // pure-ftpd lists UTF8 yet answers 504: the reply does not matter.
            return send(.type, "TYPE", "I")
        case .type:
            guard reply.isPositive else { return fail("TYPE I", reply) }
            state = .done
            return [.loggedIn(features)]
        case .awaitingTLS, .done:
            return fail("(unsolicited)", reply)
        }
    }

    private mutating func send(_ next: State, _ verb: String, _ argument: String? = nil) -> [Action] {
        state = next
        do {
            return [.send(try FTPCommand(verb, argument))]
        } catch {
            state = .done
            return [.failed(FTPErrorSummary(command: verb, code: 0, text: "\(error)"))]
        }
    }

    private mutating func fail(_ command: String, _ reply: FTPReply) -> [Action] {
        state = .done
        return [.failed(FTPErrorSummary(command: command, code: reply.code, text: reply.message))]
    }
}

/// A refused command, as the pure machines report it (the driver turns it into an `FTPError`).
@_spi(Internals) public struct FTPErrorSummary: Equatable, Sendable {
    public let command: String
    public let code: Int
    public let text: String

    public var error: FTPError {
        code == 0 ? .invalidArgument(text) : .reply(command: command, code: code, text: text)
    }
}
