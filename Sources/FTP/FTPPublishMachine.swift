/// One atomic publish as a pure state machine (no sockets): MKD the levels → EPSV (or PASV) → STOR to a temporary
/// name → the bytes → 226 → SIZE check → RNFR/RNTO to the final name, with a safe swap when the server
/// refuses to rename over an existing file. Any failure deletes the temporary file (best effort) and never touches
/// the old file except to move it aside and back. Each state carries what it needs to go on.
///
/// A resumed upload (`restartAt`: the temporary file of an interrupted attempt holds at least that many bytes) sends
/// `REST N` right before its STOR, and the caller writes from byte N on. A server that refuses either (proftpd lists
/// REST STREAM yet answers STOR with 451 unless AllowStoreRestart is on) gets a STOR from zero instead — after a DELE
/// of the temporary file, since servers that refuse to overwrite (proftpd without AllowOverwrite) would refuse that
/// STOR too — on a fresh data connection when the STOR was refused; the caller hears `restartRefused` before
/// `beginTransfer`.
@_spi(Internals) public struct FTPPublishMachine: FTPDataMachine {
    public enum Event: Equatable, FTPReplyEvent {
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
        /// The caller cancelled the upload: as `aborted`, and during the transfer ABOR tells the server at once.
        case cancelled(String)
        /// The caller stopped the upload and keeps the temporary file for a later resume (its source failed part-way
        /// and will be asked for the rest): as `aborted`, but the server's word on the transfer ends the publish —
        /// no DELE, the file stays (`temporaryMayRemain`).
        case suspended(String)
    }

    public enum Action: Equatable, FTPPassiveActions {
        case send(FTPCommand)
        /// Connect the data channel to `port` (on the control connection's peer; `announcedHost` is what PASV said).
        case openData(port: Int, announcedHost: String?)
        /// The server refused EPSV for good: later data connections on this session go straight to PASV.
        case epsvRefused
        /// The caller may write the file's bytes now.
        case beginTransfer
        /// Close the data connection without finishing (the server refused the transfer).
        case abortData
        /// Close the data connection and send ABOR: its reply comes after the STOR's final one.
        case abortTransfer
        /// The server would not resume at the asked offset: the upload starts over, and the caller must write the
        /// file from its first byte.
        case restartRefused(FTPError)
        case published(FTPPublishResult)
        case failed(FTPError)
    }

    /// The STOR in progress: the server's word and our side of the data connection arrive in any order.
    private struct Transfer {
        /// The server answered STOR with a 1xx.
        var accepted = false
        var dataReady = false
        var began = false
        /// The server's final word on the transfer.
        var reply: FTPReply?
        /// Our side is done: every byte handed over and the data connection closed cleanly.
        var bytesSent: UInt64?
        /// Our side failed (the data connection, or the caller's source); it outranks whatever the server says.
        var failure: FTPError?
        /// ABOR went out: its reply is still to come, after the STOR's final one.
        var abortPending = false
        /// The offset the server agreed to resume at (REST answered 350): the file's size is that plus what is sent.
        var restartedAt: UInt64 = 0
        /// The caller suspended the upload: the temporary file is kept, not deleted.
        var keepsFile = false
    }

    /// The file as stored under the temporary name.
    private struct Stored {
        var bytes: UInt64
        var verifiedSize: UInt64?
    }

    /// Moving the old file aside (RNFR/RNTO final → backup), the new one into place, then deleting the backup.
    private enum Swap { case finalFrom, finalTo, temporaryFrom, temporaryTo, deleteBackup }

    private enum State {
        case makeDirectory(Int)
        case passive(FTPPassiveStep)
        /// Stopped (the caller aborted) while a command before STOR was in flight: its answer ends the publish.
        case stopping(FTPError)
        /// The passive port is known; STOR goes once the data connection's TCP connect is done.
        case awaitingDataConnection
        /// REST went out, on a connected data connection; its answer decides the STOR's offset. The data connection
        /// may become ready meanwhile (at once, without TLS).
        case restart(UInt64, dataReady: Bool)
        /// The resume was refused: DELE of the temporary file, then STOR from zero (`dataReady`: on the data connection
        /// still open) or, with nil, a new passive step first.
        case discard(dataReady: Bool?)
        case transfer(Transfer)
        case size(bytes: UInt64)
        case renameFrom(Stored)
        case renameTo(Stored)
        /// `refusal` is the RNTO refusal that started the swap: the error if the swap cannot go on.
        case swap(Swap, Stored, refusal: FTPError)
        /// Putting the old file back (RNFR/RNTO backup → final) after `failure`, before deleting the temporary file.
        case restoreFrom(failure: FTPError)
        case restoreTo(failure: FTPError)
        /// DELE of the temporary file after `failure`.
        case cleanUp(failure: FTPError)
        case done(temporaryMayRemain: Bool)
    }

    public let plan: FTPPublishPlan
    private let host: String
    private var state: State
    /// The offset to resume the temporary file at; nil once the server refused it (or none was asked).
    public private(set) var restartAt: UInt64?
    /// The temporary file was there before this publish began (a resume): it may remain whatever happens.
    private let resuming: Bool

    /// `restartAt`: resume the plan's temporary file from this offset (REST, then STOR); nil or 0 stores from zero.
    public init(plan: FTPPublishPlan, host: String, restartAt: UInt64? = nil) {
        self.plan = plan
        self.host = host
        self.restartAt = restartAt.flatMap { $0 > 0 ? $0 : nil }
        resuming = self.restartAt != nil
        state = plan.directoriesToCreate.isEmpty ? .passive(FTPPassiveStep(tryEPSV: plan.tryEPSV)) : .makeDirectory(0)
    }

    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// STOR went out and neither a rename nor the clean-up DELE has been confirmed since: the temporary file may
    /// still be on the server (the connection was lost, say). Whoever owns the run deletes it later.
    public var temporaryMayRemain: Bool {
        switch state {
        case .makeDirectory, .passive, .stopping, .awaitingDataConnection: return resuming
        case .restart, .discard, .transfer, .size, .renameFrom, .renameTo, .swap, .restoreFrom, .restoreTo, .cleanUp:
            return true
        case .done(let remains): return remains
        }
    }

    private var temporaryPath: String { plan.path(plan.temporaryName) }
    private var finalPath: String { plan.path(plan.finalName) }
    private var backupPath: String { plan.path(plan.backupName) }

    /// The first command.
    public mutating func start() -> [Action] {
        switch state {
        case .makeDirectory(let index): return send("MKD", plan.directoriesToCreate[index])
        case .passive(let step): return [.send(step.command)]
        default: return []
        }
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .reply(let reply):
            return handle(reply)
        case .dataConnected:
            guard case .awaitingDataConnection = state else { return [] }
            if let restartAt {
                state = .restart(restartAt, dataReady: false)
                return send("REST", "\(restartAt)")
            }
            state = .transfer(Transfer())
            return send("STOR", temporaryPath)
        case .dataReady:
            if case .restart(let offset, _) = state {
                state = .restart(offset, dataReady: true)
                return []
            }
            if case .discard(false) = state {
                state = .discard(dataReady: true)
                return []
            }
            return updateTransfer { $0.dataReady = true }
        case .dataFinished(let bytes):
            return updateTransfer { $0.bytesSent = bytes }
        case .dataFailed(let reason):
            return dataEnded(badly: .dataConnection(host: host, reason: reason))
        case .aborted(let reason):
            return dataEnded(badly: .aborted(reason))
        case .cancelled(let reason):
            guard case .transfer(var transfer) = state, transfer.reply == nil, !transfer.abortPending else {
                return dataEnded(badly: .aborted(reason))
            }
            transfer.failure = transfer.failure ?? .aborted(reason)
            transfer.abortPending = true
            state = .transfer(transfer)
            return [.abortTransfer]
        case .suspended(let reason):
            if case .transfer(var transfer) = state {
                transfer.keepsFile = true
                state = .transfer(transfer)
            }
            return dataEnded(badly: .aborted(reason))
        }
    }

    private mutating func dataEnded(badly error: FTPError) -> [Action] {
        switch state {
        case .makeDirectory, .passive:
            // Stopped before any data moved: nothing to clean up once the command in flight is answered.
            state = .stopping(error)
            return []
        case .awaitingDataConnection:
            // Nothing was stored: no STOR went out.
            return finish(.failed(error))
        case .restart, .discard:
            // REST or DELE is in flight: its answer ends the publish (as `stopping`).
            state = .stopping(error)
            return []
        case .transfer:
            // Wait for the server's word on the transfer, then delete what it kept.
            return updateTransfer { $0.failure = $0.failure ?? error }
        default:
            return []
        }
    }

    private mutating func handle(_ reply: FTPReply) -> [Action] {
        switch state {
        case .makeDirectory(let index): return directoryMade(index, reply)
        case .passive(let step): return passiveAnswered(step, reply)
        case .stopping(let error): return finish(.failed(error))
        case .awaitingDataConnection: return fail("(data connection)", reply)
        case .restart(let offset, let dataReady): return restartAnswered(offset, dataReady: dataReady, reply)
        case .discard(let dataReady):
            // Gone (250) or not there (550): either way the STOR from zero may go.
            guard let dataReady else {
                let step = FTPPassiveStep(tryEPSV: plan.tryEPSV)
                state = .passive(step)
                return [.send(step.command)]
            }
            var transfer = Transfer()
            transfer.dataReady = dataReady
            state = .transfer(transfer)
            return send("STOR", temporaryPath)
        case .transfer(let transfer): return transferAnswered(transfer, reply)
        case .size(let bytes): return sizeAnswered(bytes, reply)
        case .renameFrom(let stored): return renameFromAnswered(stored, reply)
        case .renameTo(let stored): return renameToAnswered(stored, reply)
        case .swap(let step, let stored, let refusal): return swapAnswered(step, stored, refusal, reply)
        case .restoreFrom(let failure):
            guard reply.isIntermediate else { return cleanUp(after: failure) }
            state = .restoreTo(failure: failure)
            return send("RNTO", finalPath)
        case .restoreTo(let failure): return cleanUp(after: failure)
        case .cleanUp(let failure):
            let gone = reply.isPositive || reply.code == FTPCode.fileUnavailable
            return finish(.failed(failure), temporaryMayRemain: !gone)
        case .done: return []
        }
    }

    // MARK: before STOR

    private mutating func directoryMade(_ index: Int, _ reply: FTPReply) -> [Action] {
        // 257 created; 550/521 "exists" (or not allowed: the STOR will say so precisely).
        guard reply.isPositive || reply.code == 550 || reply.code == 521 else {
            return fail("MKD \(plan.directoriesToCreate[index])", reply)
        }
        if index + 1 < plan.directoriesToCreate.count {
            state = .makeDirectory(index + 1)
            return send("MKD", plan.directoriesToCreate[index + 1])
        }
        let step = FTPPassiveStep(tryEPSV: plan.tryEPSV)
        state = .passive(step)
        return [.send(step.command)]
    }

    private mutating func passiveAnswered(_ step: FTPPassiveStep, _ reply: FTPReply) -> [Action] {
        var step = step
        let outcome = step.handle(reply)
        // No STOR has gone out yet: a failure leaves no temporary file.
        state = outcome.next(
            asking: .passive(step), connecting: .awaitingDataConnection, failed: .done(temporaryMayRemain: false))
        return outcome.actions()
    }

    /// 350: STOR appends from `offset`. Anything else: STOR from zero on the same data connection.
    private mutating func restartAnswered(_ offset: UInt64, dataReady: Bool, _ reply: FTPReply) -> [Action] {
        guard reply.code == 350 else {
            restartAt = nil
            state = .discard(dataReady: dataReady)
            return [.restartRefused(refused("REST \(offset)", reply))] + send("DELE", temporaryPath)
        }
        var transfer = Transfer()
        transfer.dataReady = dataReady
        transfer.restartedAt = offset
        state = .transfer(transfer)
        return send("STOR", temporaryPath)
    }

    // MARK: the transfer

    /// Applies `change` to the transfer in progress (none: the event came too late or too early, and is ignored).
    private mutating func updateTransfer(_ change: (inout Transfer) -> Void) -> [Action] {
        guard case .transfer(var transfer) = state else { return [] }
        change(&transfer)
        return advance(transfer)
    }

    private mutating func transferAnswered(_ transfer: Transfer, _ reply: FTPReply) -> [Action] {
        var transfer = transfer
        if reply.isPreliminary {
            transfer.accepted = true
        } else if transfer.abortPending && transfer.reply != nil {
            // The ABOR's own reply (225/226, or a refusal): the STOR's came first.
            transfer.abortPending = false
        } else if !transfer.accepted && (transfer.failure == nil || transfer.restartedAt > 0) {
            // A resumed STOR's data connection may die before its refusal is read (proftpd resets it as it answers
            // 451): the refusal still decides, not the reset.
            if transfer.restartedAt > 0 {
                // A resume refused (proftpd: 451 without AllowStoreRestart): delete the file, store from zero on a
                // new data connection (this one belonged to the refused STOR).
                restartAt = nil
                state = .discard(dataReady: nil)
                return [.abortData, .restartRefused(refused("STOR \(temporaryPath) after REST", reply))]
                    + send("DELE", temporaryPath)
            }
            // Refused outright (553 bad name, 550 not writable, 452 no space …).
            return [.abortData] + fail("STOR \(temporaryPath)", reply)
        } else {
            transfer.reply = reply
        }
        return advance(transfer)
    }

    /// The transfer begins once the server accepted STOR and the data connection is ready; it is over once both the
    /// server's final reply and our end of the data connection are in.
    private mutating func advance(_ transfer: Transfer) -> [Action] {
        var transfer = transfer
        guard let reply = transfer.reply else {
            let mayBegin = transfer.accepted && transfer.dataReady && !transfer.began && transfer.failure == nil
            transfer.began = transfer.began || mayBegin
            state = .transfer(transfer)
            return mayBegin ? [.beginTransfer] : []
        }
        state = .transfer(transfer)
        if let failure = transfer.failure {
            // Our side knows best whatever the reply: vsftpd even answers 226 for a cut upload, and a 426 only
            // echoes our own abort. After ABOR, its reply is awaited first: the DELE must not take it for its own.
            guard !transfer.abortPending else { return [] }
            return transfer.keepsFile ? finish(.failed(failure), temporaryMayRemain: true) : cleanUp(after: failure)
        }
        guard let sent = transfer.bytesSent else { return [] }
        let bytes = transfer.restartedAt + sent
        guard reply.isPositive else { return cleanUp(after: refused("STOR \(temporaryPath)", reply)) }
        if plan.checkSize {
            state = .size(bytes: bytes)
            return send("SIZE", temporaryPath)
        }
        state = .renameFrom(Stored(bytes: bytes))
        return send("RNFR", temporaryPath)
    }

    // MARK: after the transfer

    private mutating func sizeAnswered(_ bytes: UInt64, _ reply: FTPReply) -> [Action] {
        var stored = Stored(bytes: bytes)
        if reply.code == FTPCode.fileStatus {
            let size = UInt64(reply.message.split(separator: " ").first ?? "")
            stored.verifiedSize = size
            if let size, size != bytes {
                return cleanUp(after: .sizeMismatch(path: temporaryPath, sent: bytes, stored: size))
            }
        }
        // No SIZE (or not in this mode): the 226 and our own count are all there is.
        state = .renameFrom(stored)
        return send("RNFR", temporaryPath)
    }

    private mutating func renameFromAnswered(_ stored: Stored, _ reply: FTPReply) -> [Action] {
        guard reply.isIntermediate else { return cleanUp(after: refused("RNFR \(temporaryPath)", reply)) }
        state = .renameTo(stored)
        return send("RNTO", finalPath)
    }

    private mutating func renameToAnswered(_ stored: Stored, _ reply: FTPReply) -> [Action] {
        if reply.isPositive { return finish(.published(result(stored, swapped: false))) }
        // Some servers (proftpd without AllowOverwrite) will not rename over an existing file and say 550,
        // like for "permission denied". Move the old file aside first, then try again.
        state = .swap(.finalFrom, stored, refusal: refused("RNTO \(finalPath)", reply))
        return send("RNFR", finalPath)
    }

    private mutating func swapAnswered(_ step: Swap, _ stored: Stored, _ refusal: FTPError, _ reply: FTPReply)
        -> [Action]
    {
        switch step {
        case .finalFrom:
            // No old file to move aside: the first refusal was about something else.
            guard reply.isIntermediate else { return cleanUp(after: refusal) }
            state = .swap(.finalTo, stored, refusal: refusal)
            return send("RNTO", backupPath)
        case .finalTo:
            guard reply.isPositive else { return cleanUp(after: refusal) }
            state = .swap(.temporaryFrom, stored, refusal: refusal)
            return send("RNFR", temporaryPath)
        case .temporaryFrom:
            guard reply.isIntermediate else { return restore(after: refused("RNFR \(temporaryPath)", reply)) }
            state = .swap(.temporaryTo, stored, refusal: refusal)
            return send("RNTO", finalPath)
        case .temporaryTo:
            guard reply.isPositive else { return restore(after: refused("RNTO \(finalPath)", reply)) }
            state = .swap(.deleteBackup, stored, refusal: refusal)
            return send("DELE", backupPath)
        case .deleteBackup:
            let leftover = reply.isPositive ? nil : backupPath
            return finish(.published(result(stored, swapped: true, leftoverBackup: leftover)))
        }
    }

    // MARK: endings

    private mutating func restore(after failure: FTPError) -> [Action] {
        state = .restoreFrom(failure: failure)
        return send("RNFR", backupPath)
    }

    private mutating func cleanUp(after failure: FTPError) -> [Action] {
        state = .cleanUp(failure: failure)
        return send("DELE", temporaryPath)
    }

    private func result(_ stored: Stored, swapped: Bool, leftoverBackup: String? = nil) -> FTPPublishResult {
        FTPPublishResult(
            path: finalPath, bytes: stored.bytes, verifiedSize: stored.verifiedSize, swapped: swapped,
            leftoverBackup: leftoverBackup)
    }

    private func refused(_ command: String, _ reply: FTPReply) -> FTPError {
        .reply(command: command, code: reply.code, text: reply.message)
    }

    private mutating func fail(_ command: String, _ reply: FTPReply) -> [Action] {
        finish(.failed(refused(command, reply)))
    }

    /// Ends the publish. The temporary file is gone once published; after a failure it may remain as far as the
    /// state before says, unless `temporaryMayRemain` says better (the clean-up DELE's answer).
    private mutating func finish(_ action: Action, temporaryMayRemain remains: Bool? = nil) -> [Action] {
        let published = if case .published = action { true } else { false }
        state = .done(temporaryMayRemain: published ? false : (remains ?? temporaryMayRemain))
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
