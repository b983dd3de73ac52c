/// Where and under which names one upload is published.
public struct FTPPublishPlan: Equatable, Sendable {
    /// The target directory as the server names it: absolute (`/srv/in`), relative to the login directory
    /// (`in/daily`), or empty for the login directory itself.
    public var directory: String
    /// Directory levels to create first (MKD each; "exists" is fine), outermost first.
    public var directoriesToCreate: [String]
    public var finalName: String
    public var temporaryName: String
    public var backupName: String
    /// Compare SIZE of the uploaded file with the bytes sent (when the server offers SIZE).
    public var checkSize: Bool
    /// Try EPSV first (falls back to PASV when refused).
    public var tryEPSV: Bool

    public init(
        directory: String, finalName: String, temporaryName: String, backupName: String, checkSize: Bool,
        tryEPSV: Bool = true, createDirectories: Bool = true
    ) {
        self.directory = directory
        self.finalName = finalName
        self.temporaryName = temporaryName
        self.backupName = backupName
        self.checkSize = checkSize
        self.tryEPSV = tryEPSV
        directoriesToCreate = createDirectories ? Self.levels(of: directory) : []
    }

    public func path(_ name: String) -> String { Self.join(directory, name) }

    /// `directory/name` as the server names it (no separator doubled; an empty directory is the login directory).
    public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// `/a/b` → [`/a`, `/a/b`]; `a/b` → [`a`, `a/b`]; `` and `/` → [].
    public static func levels(of directory: String) -> [String] {
        let absolute = directory.hasPrefix("/")
        var levels: [String] = []
        var current = absolute ? "" : nil as String?
        for part in directory.split(separator: "/") where part != "." {
            current = current.map { "\($0)/\(part)" } ?? String(part)
            levels.append(current!)
        }
        return levels
    }
}

/// What a published upload looked like.
public struct FTPPublishResult: Equatable, Sendable {
    public var path: String
    public var bytes: UInt64
    /// The size the server reported, when it was asked.
    public var verifiedSize: UInt64?
    /// True when the server would not rename over the old file and the swap through a backup name was used.
    public var swapped: Bool
    /// The backup that could not be deleted after a swap, if any (the new file is in place all the same).
    public var leftoverBackup: String?
}

/// One atomic publish as a pure state machine (no sockets): MKD the levels → EPSV (or PASV) → STOR to a temporary
/// name → the bytes → 226 → SIZE check → RNFR/RNTO to the final name, with a safe swap when the server
/// refuses to rename over an existing file. Any failure deletes the temporary file (best effort) and never touches
/// the old file except to move it aside and back.
public struct FTPPublishMachine {
    public enum Event: Equatable {
        case reply(FTPReply)
        /// The data connection's TCP connect finished (STOR can go now).
        case dataConnected
        /// The data connection is ready for bytes (its TLS handshake finished, or there is none).
        case dataReady
        /// The caller's bytes are all sent and the data connection closed cleanly.
        case dataFinished(bytes: UInt64)
        /// The data connection failed.
        case dataFailed(String)
        /// The caller stopped the upload (its source failed).
        case aborted(String)
    }

    public enum Action: Equatable {
        case send(FTPCommand)
        /// Connect the data channel to `port` (on the control connection's peer; `announcedHost` is what PASV said).
        case openData(port: Int, announcedHost: String?)
        /// The caller may write the file's bytes now.
        case beginTransfer
        /// Close the data connection without finishing (the server refused the transfer).
        case abortData
        case published(FTPPublishResult)
        case failed(FTPError)
    }

    private enum State: Equatable {
        case makeDirectory(Int)
        case epsv
        case pasv
        case awaitingDataConnection
        case store
        case transferring
        case size
        case renameFrom
        case renameTo
        case swapRenameFinalFrom
        case swapRenameFinalTo
        case swapRenameTempFrom
        case swapRenameTempTo
        case swapDeleteBackup
        case restoreFrom
        case restoreTo
        case cleanup
        case done
    }

    public let plan: FTPPublishPlan
    private let host: String
    private var state: State
    private var storeAccepted = false
    private var dataReady = false
    private var transferReply: FTPReply?
    private var bytesSent: UInt64?
    private var dataFailure: FTPError?
    private var verifiedSize: UInt64?
    private var failure: FTPError?
    private var leftoverBackup: String?
    /// STOR went out and neither a rename nor the clean-up DELE has been confirmed since: the temporary file may
    /// still be on the server (the connection was lost, say). Whoever owns the run deletes it later.
    public private(set) var temporaryMayRemain = false

    public init(plan: FTPPublishPlan, host: String) {
        self.plan = plan
        self.host = host
        state = plan.directoriesToCreate.isEmpty ? (plan.tryEPSV ? .epsv : .pasv) : .makeDirectory(0)
    }

    public var isDone: Bool { state == .done }

    private var temporaryPath: String { plan.path(plan.temporaryName) }
    private var finalPath: String { plan.path(plan.finalName) }
    private var backupPath: String { plan.path(plan.backupName) }

    /// The first command.
    public mutating func start() -> [Action] {
        switch state {
        case .makeDirectory(let index): return send("MKD", plan.directoriesToCreate[index])
        case .epsv: return send("EPSV")
        default: return send("PASV")
        }
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .reply(let reply): return handle(reply)
        case .dataConnected:
            guard state == .awaitingDataConnection else { return [] }
            state = .store
            temporaryMayRemain = true
            return send("STOR", temporaryPath)
        case .dataReady:
            dataReady = true
            return maybeBegin()
        case .dataFinished(let bytes):
            bytesSent = bytes
            return maybeFinishTransfer()
        case .dataFailed(let reason):
            return dataEnded(badly: .dataConnection(host: host, reason: reason))
        case .aborted(let reason):
            return dataEnded(badly: .aborted(reason))
        }
    }

    private mutating func dataEnded(badly error: FTPError) -> [Action] {
        if dataFailure == nil { dataFailure = error }
        switch state {
        case .awaitingDataConnection:
            // Nothing was stored: no STOR went out.
            return finish(.failed(error))
        case .store, .transferring:
            // Wait for the server's word on the transfer, then delete what it kept.
            state = .transferring
            return maybeFinishTransfer()
        default:
            return []
        }
    }

    private mutating func handle(_ reply: FTPReply) -> [Action] {
        if let dataFailure {
            switch state {
            case .makeDirectory, .epsv, .pasv:
                // Stopped before any data moved: nothing to clean up once the command in flight is answered.
                return finish(.failed(dataFailure))
            default:
                break
            }
        }
        switch state {
        case .makeDirectory(let index):
            // 257 created; 550/521 "exists" (or not allowed: the STOR will say so precisely).
            guard reply.isPositive || reply.code == 550 || reply.code == 521 else {
                return fail("MKD \(plan.directoriesToCreate[index])", reply)
            }
            if index + 1 < plan.directoriesToCreate.count {
                state = .makeDirectory(index + 1)
                return send("MKD", plan.directoriesToCreate[index + 1])
            }
            state = plan.tryEPSV ? .epsv : .pasv
            return send(plan.tryEPSV ? "EPSV" : "PASV")
        case .epsv:
            if reply.code == FTPCode.enteringExtendedPassive, let port = PassiveReply.parse229(reply.message) {
                state = .awaitingDataConnection
                return [.openData(port: port, announcedHost: nil)]
            }
            guard reply.isPermanentNegative || reply.code == FTPCode.enteringExtendedPassive else {
                return fail("EPSV", reply)
            }
            state = .pasv
            return send("PASV")
        case .pasv:
            guard reply.code == FTPCode.enteringPassive, let (host, port) = PassiveReply.parse227(reply.message) else {
                return fail("PASV", reply)
            }
            state = .awaitingDataConnection
            return [.openData(port: port, announcedHost: host)]
        case .store, .transferring:
            if reply.isPreliminary {
                storeAccepted = true
                return maybeBegin()
            }
            if !storeAccepted && state == .store {
                // Refused outright (553 bad name, 550 not writable, 452 no space …).
                return [.abortData] + fail("STOR \(temporaryPath)", reply)
            }
            transferReply = reply
            state = .transferring
            return maybeFinishTransfer()
        case .size:
            if reply.code == FTPCode.fileStatus {
                let stored = UInt64(reply.message.split(separator: " ").first ?? "")
                verifiedSize = stored
                if let stored, let sent = bytesSent, stored != sent {
                    return cleanUp(after: .sizeMismatch(path: temporaryPath, sent: sent, stored: stored))
                }
            }
            // No SIZE (or not in this mode): the 226 and our own count are all there is.
            state = .renameFrom
            return send("RNFR", temporaryPath)
        case .renameFrom:
            guard reply.isIntermediate else { return cleanUp(after: refused("RNFR \(temporaryPath)", reply)) }
            state = .renameTo
            return send("RNTO", finalPath)
        case .renameTo:
            if reply.isPositive { return finish(.published(result(swapped: false))) }
            // Some servers (proftpd without AllowOverwrite) will not rename over an existing file and say 550,
            // like for "permission denied". Move the old file aside first, then try again.
            failure = refused("RNTO \(finalPath)", reply)
            state = .swapRenameFinalFrom
            return send("RNFR", finalPath)
        case .swapRenameFinalFrom:
            // No old file to move aside: the first refusal was about something else.
            guard reply.isIntermediate else { return cleanUp(after: failure!) }
            state = .swapRenameFinalTo
            return send("RNTO", backupPath)
        case .swapRenameFinalTo:
            guard reply.isPositive else { return cleanUp(after: failure!) }
            state = .swapRenameTempFrom
            return send("RNFR", temporaryPath)
        case .swapRenameTempFrom:
            guard reply.isIntermediate else { return restore(refused("RNFR \(temporaryPath)", reply)) }
            state = .swapRenameTempTo
            return send("RNTO", finalPath)
        case .swapRenameTempTo:
            guard reply.isPositive else { return restore(refused("RNTO \(finalPath)", reply)) }
            state = .swapDeleteBackup
            return send("DELE", backupPath)
        case .swapDeleteBackup:
            if !reply.isPositive { leftoverBackup = backupPath }
            return finish(.published(result(swapped: true)))
        case .restoreFrom:
            guard reply.isIntermediate else { return cleanUp(after: failure!) }
            state = .restoreTo
            return send("RNTO", finalPath)
        case .restoreTo:
            return cleanUp(after: failure!)
        case .cleanup:
            if reply.isPositive || reply.code == FTPCode.fileUnavailable { temporaryMayRemain = false }
            return finish(.failed(failure!))
        case .awaitingDataConnection:
            return fail("(data connection)", reply)
        case .done:
            return []
        }
    }

    /// The transfer may start once the server accepted STOR and the data connection is ready.
    private mutating func maybeBegin() -> [Action] {
        guard storeAccepted && dataReady && (state == .store) else { return [] }
        state = .transferring
        return [.beginTransfer]
    }

    /// The transfer is over once both the server's final reply and our end of the data connection are in.
    private mutating func maybeFinishTransfer() -> [Action] {
        guard state == .transferring, let reply = transferReply else { return [] }
        if let dataFailure {
            // Our side knows best whatever the reply: vsftpd even answers 226 for a cut upload, and a 426 only
            // echoes our own abort.
            return cleanUp(after: dataFailure)
        }
        guard bytesSent != nil else { return [] }
        guard reply.isPositive else { return cleanUp(after: refused("STOR \(temporaryPath)", reply)) }
        if plan.checkSize {
            state = .size
            return send("SIZE", temporaryPath)
        }
        state = .renameFrom
        return send("RNFR", temporaryPath)
    }

    private mutating func restore(_ error: FTPError) -> [Action] {
        failure = error
        state = .restoreFrom
        return send("RNFR", backupPath)
    }

    private mutating func cleanUp(after error: FTPError) -> [Action] {
        failure = error
        state = .cleanup
        return send("DELE", temporaryPath)
    }

    private func result(swapped: Bool) -> FTPPublishResult {
        FTPPublishResult(
            path: finalPath, bytes: bytesSent ?? 0, verifiedSize: verifiedSize, swapped: swapped,
            leftoverBackup: leftoverBackup)
    }

    private func refused(_ command: String, _ reply: FTPReply) -> FTPError {
        .reply(command: command, code: reply.code, text: reply.message)
    }

    private mutating func fail(_ command: String, _ reply: FTPReply) -> [Action] {
        finish(.failed(refused(command, reply)))
    }

    private mutating func finish(_ action: Action) -> [Action] {
        if case .published = action { temporaryMayRemain = false }
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

extension FTPError: Equatable {
    public static func == (lhs: FTPError, rhs: FTPError) -> Bool { lhs.description == rhs.description }
}
