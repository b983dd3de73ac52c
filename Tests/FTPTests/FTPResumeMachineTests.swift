@_spi(Internals) import FTP
import Testing

/// Issue #18 part 3: a resumed upload (REST N + STOR) in the publish machine, and the fall-backs to a STOR from zero.
@Suite("FTP publish machine: resuming the temporary file (REST + STOR)")
struct FTPResumeMachineTests {
    static let resumePlan = FTPPublishPlan(
        directory: "/in/daily", finalName: "sales.csv", temporaryName: ".sales.csv.part", backupName: ".sales.csv.bak",
        checkSize: true, createDirectories: false)

    @Test("REST N right before STOR; the SIZE check and the published size count the bytes before N")
    func resumed() {
        let out = publish(
            [
                "< 229 (|||5000|)", "~connected", "< 350 Restart position accepted (1000).", "< 150 go", "~ready",
                "~finished 234", "< 226 done", "< 213 1234", "< 350 RNFR ok", "< 250 renamed",
            ], plan: Self.resumePlan, restartAt: 1000)
        #expect(
            out == [
                "> EPSV", "< 229 (|||5000|)", "! openData 5000", "~connected", "> REST 1000",
                "< 350 Restart position accepted (1000).", "> STOR /in/daily/.sales.csv.part", "< 150 go", "~ready",
                "! beginTransfer", "~finished 234", "< 226 done", "> SIZE /in/daily/.sales.csv.part", "< 213 1234",
                "> RNFR /in/daily/.sales.csv.part", "< 350 RNFR ok", "> RNTO /in/daily/sales.csv", "< 250 renamed",
                "! published /in/daily/sales.csv 1234 size=1234",
            ])
    }

    @Test("REST refused: the temporary file deleted, STOR from zero on the same data connection, the caller told first")
    func restRefused() {
        let out = publish(
            [
                "< 229 (|||5000|)", "~connected", "~ready", "< 502 REST not implemented.", "< 250 deleted", "< 150 go",
                "~finished 1234", "< 226 done", "< 213 1234",
            ], plan: Self.resumePlan, restartAt: 1000)
        #expect(
            Array(out[4...12]) == [
                "> REST 1000", "~ready", "< 502 REST not implemented.",
                "! restartRefused FTP server refused REST 1000: 502 REST not implemented.",
                "> DELE /in/daily/.sales.csv.part", "< 250 deleted", "> STOR /in/daily/.sales.csv.part", "< 150 go",
                "! beginTransfer",
            ])
        // The file is checked against what this STOR sent, from zero.
        #expect(out.suffix(2) == ["< 213 1234", "> RNFR /in/daily/.sales.csv.part"])
    }

    @Test(
        "STOR after REST refused (proftpd without AllowStoreRestart: 451): DELE, a new data connection, STOR from zero")
    func storAfterRestRefused() {
        let out = publish(
            [
                "< 229 (|||5000|)", "~connected", "< 350 Restarting at 1000.", "< 451 Append/Restart not permitted",
                "< 550 not there", "< 229 (|||5001|)", "~connected", "< 150 go", "~ready", "~finished 1234",
                "< 226 done", "< 213 1234",
            ], plan: Self.resumePlan, restartAt: 1000)
        #expect(
            Array(out[6...]) == [
                "> STOR /in/daily/.sales.csv.part", "< 451 Append/Restart not permitted", "! abortData",
                "! restartRefused FTP server refused STOR /in/daily/.sales.csv.part after REST: 451 Append/Restart not"
                    + " permitted",
                "> DELE /in/daily/.sales.csv.part", "< 550 not there", "> EPSV", "< 229 (|||5001|)", "! openData 5001",
                "~connected", "> STOR /in/daily/.sales.csv.part",
                "< 150 go", "~ready", "! beginTransfer", "~finished 1234", "< 226 done",
                "> SIZE /in/daily/.sales.csv.part", "< 213 1234", "> RNFR /in/daily/.sales.csv.part",
            ])
    }

    @Test("STOR after REST refused, its data connection reset before the 451 is read: still DELE and a STOR from zero")
    func storAfterRestRefusedResetFirst() {
        let out = publish(
            [
                "< 229 (|||5000|)", "~connected", "< 350 Restarting at 1000.", "~failed connection reset",
                "< 451 Append/Restart not permitted", "< 250 deleted", "< 229 (|||5001|)", "~connected", "< 150 go",
            ], plan: Self.resumePlan, restartAt: 1000)
        #expect(out.contains("> DELE /in/daily/.sales.csv.part"), "\(out)")
        #expect(out.suffix(3) == ["~connected", "> STOR /in/daily/.sales.csv.part", "< 150 go"], "\(out)")
    }

    @Test("a STOR from zero refused after the fall-back is a failure as usual")
    func refusedTwice() {
        let out = publish(
            [
                "< 229 (|||5000|)", "~connected", "< 350 ok", "< 451 no restart", "< 250 deleted", "< 229 (|||5001|)",
                "~connected",
                "< 553 Could not create file.",
            ], plan: Self.resumePlan, restartAt: 1000)
        #expect(
            out.suffix(2) == [
                "! abortData", "! failed FTP server refused STOR /in/daily/.sales.csv.part: 553 Could not create file.",
            ])
    }

    @Test("the data connection ready while REST is in flight (plain FTP: at once) is remembered for the STOR")
    func readyDuringRest() {
        let out = publish(
            ["< 229 (|||5000|)", "~connected", "~ready", "< 350 ok", "< 150 go"], plan: Self.resumePlan,
            restartAt: 1000)
        #expect(out.suffix(3) == ["> STOR /in/daily/.sales.csv.part", "< 150 go", "! beginTransfer"])
    }

    @Test("a resume's temporary file may remain even when the publish stops before its STOR")
    func temporaryRemains() {
        var machine = FTPPublishMachine(plan: Self.resumePlan, host: "ftp.test", restartAt: 1000)
        _ = machine.start()
        #expect(machine.temporaryMayRemain)
        _ = machine.handle(.aborted("source failed"))
        #expect(machine.handle(.reply(reply("229 (|||5000|)"))).map(describe).first?.hasPrefix("! failed") == true)
        #expect(machine.temporaryMayRemain)
        var plain = FTPPublishMachine(plan: Self.resumePlan, host: "ftp.test", restartAt: 0)
        _ = plain.start()
        #expect(!plain.temporaryMayRemain)
        #expect(plain.restartAt == nil)
    }

    @Test("aborted while REST is in flight: its answer ends the publish, nothing sent after it")
    func abortDuringRest() {
        var machine = FTPPublishMachine(plan: Self.resumePlan, host: "ftp.test", restartAt: 1000)
        _ = machine.start()
        _ = machine.handle(.reply(reply("229 (|||5000|)")))
        #expect(machine.handle(.dataConnected).map(describe) == ["> REST 1000"])
        #expect(machine.handle(.aborted("source failed")).isEmpty)
        #expect(machine.handle(.reply(reply("350 ok"))).map(describe) == ["! failed upload aborted: source failed"])
    }
}

@Suite("FTP publish machine: suspending an upload, its temporary file kept for a resume")
struct FTPSuspendMachineTests {
    static let plan = FTPResumeMachineTests.resumePlan

    /// The machine up to a transfer under way (STOR accepted, data ready, bytes flowing).
    static func transferring(restartAt: UInt64? = nil) -> FTPPublishMachine {
        var machine = FTPPublishMachine(plan: plan, host: "ftp.test", restartAt: restartAt)
        _ = machine.start()
        _ = machine.handle(.reply(reply("229 (|||5000|)")))
        _ = machine.handle(.dataConnected)
        if restartAt != nil { _ = machine.handle(.reply(reply("350 ok"))) }
        _ = machine.handle(.reply(reply("150 go")))
        #expect(machine.handle(.dataReady).map(describe) == ["! beginTransfer"])
        return machine
    }

    @Test(
        "suspended mid-transfer: the server's word on the STOR ends it, no DELE, the file may remain",
        arguments: ["226 Transfer complete.", "426 Connection closed; transfer aborted.", "451 local error"])
    func suspended(answer: String) {
        var machine = Self.transferring()
        #expect(machine.handle(.suspended("body cut")).isEmpty)
        #expect(
            machine.handle(.reply(reply(answer))).map(describe) == ["! failed upload aborted: body cut"])
        #expect(machine.temporaryMayRemain)
        #expect(machine.isDone)
    }

    @Test("a resumed upload suspended again keeps its file too; aborted, it is deleted as ever")
    func resumedSuspended() {
        var kept = Self.transferring(restartAt: 8 << 20)
        _ = kept.handle(.suspended("cut again"))
        #expect(kept.handle(.reply(reply("226 ok"))).map(describe) == ["! failed upload aborted: cut again"])
        #expect(kept.temporaryMayRemain)
        var aborted = Self.transferring(restartAt: 8 << 20)
        _ = aborted.handle(.aborted("permanent"))
        #expect(aborted.handle(.reply(reply("226 ok"))).map(describe) == ["> DELE /in/daily/.sales.csv.part"])
        _ = aborted.handle(.reply(reply("250 deleted")))
        #expect(!aborted.temporaryMayRemain)
    }

    @Test("suspended before STOR went out: nothing stored, nothing to keep")
    func suspendedEarly() {
        var machine = FTPPublishMachine(plan: Self.plan, host: "ftp.test")
        _ = machine.start()
        #expect(machine.handle(.suspended("cut")).isEmpty)
        #expect(machine.handle(.reply(reply("229 (|||5000|)"))).map(describe) == ["! failed upload aborted: cut"])
        #expect(!machine.temporaryMayRemain)
    }
}

@Suite("FTP FEAT: REST STREAM")
struct FTPRestStreamFeatureTests {
    @Test(
        "REST STREAM read from FEAT with its parameter; a bare REST or none is no stream restart",
        arguments: [(" REST STREAM", true), (" REST stream", true), (" REST", false), (" MDTM", false)])
    func restStream(line: String, expected: Bool) {
        var machine = FTPLoginMachine(user: "ann", password: "pw", security: .none)
        _ = machine.handle(.reply(reply("220 hi")))
        _ = machine.handle(.reply(reply("331 pw")))
        _ = machine.handle(.reply(reply("230 in")))
        _ = machine.handle(.reply(FTPReply(code: 211, lines: ["Features:", line, " SIZE", "End"])))
        let actions = machine.handle(.reply(reply("200 binary")))
        guard case .loggedIn(let features)? = actions.first else {
            Issue.record("not logged in: \(actions)")
            return
        }
        #expect(features.restartsStreams == expected)
        #expect(features.has("SIZE"))
    }
}
