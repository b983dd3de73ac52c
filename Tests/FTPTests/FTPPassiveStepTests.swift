@_spi(Internals) import FTP
import Testing

@Suite("FTP passive-mode step (table)")
struct FTPPassiveStepTests {
    /// Each row: whether EPSV is tried, the replies in turn, and what the step says to each.
    static let rows: [(tryEPSV: Bool, replies: [String], outcomes: [String])] = [
        (true, ["229 Entering Extended Passive Mode (|||6446|)"], ["open 6446"]),
        (true, ["229 (!!!6446!)"], ["open 6446"]),
        (
            true, ["500 EPSV not understood", "227 Entering Passive Mode (10,0,0,9,70,200)."],
            ["fall back to PASV", "open 18120 announced 10.0.0.9"]
        ),
        (
            true, ["502 not implemented", "227 (127,0,0,1,4,1)"],
            ["fall back to PASV", "open 1025 announced 127.0.0.1"]
        ),
        (true, ["550 EPSV not allowed here"], ["fall back to PASV"]),
        (true, ["229 no port in here"], ["fall back to PASV"]),
        (true, ["421 too busy"], ["failed EPSV 421 transient"]),
        (true, ["425 cannot open passive port"], ["failed EPSV 425 transient"]),
        (true, ["200 what"], ["failed EPSV 200 permanent"]),
        (true, ["500 no", "500 no either"], ["fall back to PASV", "failed PASV 500 permanent"]),
        (true, ["500 no", "425 no port"], ["fall back to PASV", "failed PASV 425 transient"]),
        (false, ["227 =10,0,0,9,70,200"], ["open 18120 announced 10.0.0.9"]),
        (false, ["227 no numbers"], ["failed PASV 227 permanent"]),
    ]

    static func describe(_ outcome: FTPPassiveStep.Outcome) -> String {
        switch outcome {
        case .openData(let port, let host): return "open \(port)" + (host.map { " announced \($0)" } ?? "")
        case .fallBack(let command): return "fall back to \(command)"
        case .failed(.reply(let command, let code, _)) where code >= 400 && code < 500:
            return "failed \(command) \(code) transient"
        case .failed(let error):
            guard case .reply(let command, let code, _) = error, !error.isTransient else { return "\(error)" }
            return "failed \(command) \(code) permanent"
        }
    }

    @Test("EPSV first; any 5xx (or a 229 without a port) → PASV; a 4xx fails as transient", arguments: rows.indices)
    func table(_ index: Int) {
        let row = Self.rows[index]
        var step = FTPPassiveStep(tryEPSV: row.tryEPSV)
        #expect(step.command.verb == (row.tryEPSV ? "EPSV" : "PASV"))
        let outcomes = row.replies.map { Self.describe(step.handle(reply($0))) }
        #expect(outcomes == row.outcomes, "\(row.replies)")
    }

    @Test("a 4xx to EPSV is transient for the publish and the listing alike; neither falls back")
    func transientEverywhere() {
        let refusal = FTPError.reply(command: "EPSV", code: 425, text: "busy")
        var publish = FTPPublishMachine(plan: plan, host: "h")
        _ = publish.start()
        _ = publish.handle(.reply(reply("257 ok")))
        _ = publish.handle(.reply(reply("257 ok")))
        #expect(publish.handle(.reply(reply("425 busy"))) == [.failed(refusal)])
        var listing = FTPListMachine(directory: "in", host: "h")
        _ = listing.start()
        #expect(listing.handle(.reply(reply("425 busy"))) == [.failed(refusal)])
        #expect(refusal.isTransient)
    }

    @Test("a 5xx to EPSV: both machines say so (the session remembers it) and send PASV")
    func fallBackEverywhere() throws {
        var listing = FTPListMachine(directory: "in", host: "h")
        _ = listing.start()
        #expect(listing.handle(.reply(reply("500 no"))) == [.epsvRefused, .send(try FTPCommand("PASV"))])
        var flat = plan
        flat.directoriesToCreate = []
        var publish = FTPPublishMachine(plan: flat, host: "h")
        #expect(publish.start() == [.send(try FTPCommand("EPSV"))])
        #expect(publish.handle(.reply(reply("502 no"))) == [.epsvRefused, .send(try FTPCommand("PASV"))])
        flat.tryEPSV = false
        var direct = FTPPublishMachine(plan: flat, host: "h")
        #expect(direct.start() == [.send(try FTPCommand("PASV"))])
    }
}
