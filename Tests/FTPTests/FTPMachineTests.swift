@_spi(Internals) import FTP
@_spi(Internals) import TestSupport
import Testing

func describe(_ action: FTPLoginMachine.Action) -> String {
    switch action {
    case .send(let command): return "> \(command)"
    case .startTLS: return "! startTLS"
    case .loggedIn(let features): return "! loggedIn \(features.names.sorted().joined(separator: ","))"
    case .failed(let summary): return "! failed \(summary.command): \(summary.code) \(summary.text)"
    }
}

func describe(_ action: FTPPublishMachine.Action) -> String {
    switch action {
    case .send(let command): return "> \(command)"
    case .openData(let port, let host): return "! openData \(port)\(host.map { " (announced \($0))" } ?? "")"
    case .epsvRefused: return "! epsvRefused"
    case .beginTransfer: return "! beginTransfer"
    case .abortData: return "! abortData"
    case .abortTransfer: return "! abortTransfer"
    case .restartRefused(let error): return "! restartRefused \(error)"
    case .published(let result):
        return "! published \(result.path) \(result.bytes) size=\(result.verifiedSize.map(String.init) ?? "-")"
            + (result.swapped ? " swapped" : "") + (result.leftoverBackup.map { " leftover=\($0)" } ?? "")
    case .failed(let error): return "! failed \(error)"
    }
}

func reply(_ text: String) -> FTPReply {
    FTPReply(code: Int(text.prefix(3))!, lines: [String(text.dropFirst(4))])
}

/// Runs a login transcript: "< reply" lines are fed, "~tls" is the TLS event; returns everything with the actions.
func login(_ security: FTPSecurity, _ script: [String]) -> [String] {
    var machine = FTPLoginMachine(user: "ann", password: "s3cret", security: security)
    var out: [String] = []
    for step in script {
        out.append(step)
        let event: FTPLoginMachine.Event = step == "~tls" ? .tlsEstablished : .reply(reply(String(step.dropFirst(2))))
        out += machine.handle(event).map(describe)
    }
    return out
}

let plan = FTPPublishPlan(
    directory: "/in/daily", finalName: "sales.csv", temporaryName: ".sales.csv.part", backupName: ".sales.csv.bak",
    checkSize: true)

func publish(_ script: [String], plan: FTPPublishPlan = plan, restartAt: UInt64? = nil) -> [String] {
    var machine = FTPPublishMachine(plan: plan, host: "ftp.test", restartAt: restartAt)
    var out = machine.start().map(describe)
    for step in script {
        out.append(step)
        let event: FTPPublishMachine.Event
        switch step {
        case "~connected": event = .dataConnected
        case "~ready": event = .dataReady
        case let s where s.hasPrefix("~finished "): event = .dataFinished(bytes: UInt64(s.dropFirst(10))!)
        case let s where s.hasPrefix("~failed "): event = .dataFailed(String(s.dropFirst(8)))
        case let s where s.hasPrefix("~cancel "): event = .cancelled(String(s.dropFirst(8)))
        default: event = .reply(reply(String(step.dropFirst(2))))
        }
        out += machine.handle(event).map(describe)
    }
    return out
}

@Suite("FTP login machine (transcripts)")
struct FTPLoginMachineTests {
    @Test("explicit FTPS: AUTH TLS, PBSZ, PROT, USER, PASS, FEAT, OPTS UTF8, TYPE I")
    func explicit() {
        #expect(
            login(
                .explicitTLS,
                [
                    "< 220 (vsFTPd 3.0.3)", "< 234 Proceed with negotiation.", "~tls", "< 200 PBSZ set to 0.",
                    "< 200 PROT now Private.", "< 331 Please specify the password.", "< 230 Login successful.",
                ]) == [
                    "< 220 (vsFTPd 3.0.3)", "> AUTH TLS", "< 234 Proceed with negotiation.", "! startTLS", "~tls",
                    "> PBSZ 0",
                    "< 200 PBSZ set to 0.", "> PROT P", "< 200 PROT now Private.", "> USER ann",
                    "< 331 Please specify the password.", "> PASS ***", "< 230 Login successful.", "> FEAT",
                ])
        var machine = FTPLoginMachine(user: "u", password: "p", security: .none)
        _ = machine.handle(.reply(reply("220 hi")))
        _ = machine.handle(.reply(reply("331 pw")))
        _ = machine.handle(.reply(reply("230 ok")))
        let feat = FTPReply(code: 211, lines: ["Features:", " EPSV", " SIZE", " UTF8", " MLST type*;size*;", "End"])
        #expect(machine.handle(.reply(feat)).map(describe) == ["> OPTS UTF8 ON"])
        #expect(machine.handle(.reply(reply("504 no"))).map(describe) == ["> TYPE I"])
        #expect(
            machine.handle(.reply(reply("200 Switching to Binary mode."))).map(describe) == [
                "! loggedIn EPSV,MLST,SIZE,UTF8"
            ])
        #expect(machine.isDone)
    }

    @Test("a server that refuses AUTH TLS gets no password: no fallback to plaintext")
    func noFallback() {
        #expect(
            login(.explicitTLS, ["< 220 hi", "< 500 AUTH not understood"]).last
                == "! failed AUTH TLS: 500 AUTH not understood")
    }

    @Test("implicit FTPS skips AUTH TLS; plain FTP goes straight to USER; a wrong password fails with 530")
    func variants() {
        #expect(login(.implicitTLS, ["< 220 hi"]).last == "> PBSZ 0")
        #expect(
            login(.none, ["< 220 hi", "< 331 pw", "< 530 Login incorrect."]) == [
                "< 220 hi", "> USER ann", "< 331 pw", "> PASS ***", "< 530 Login incorrect.",
                "! failed PASS ***: 530 Login incorrect.",
            ])
        #expect(login(.none, ["< 120 wait", "< 220 now"]).last == "> USER ann")
        #expect(login(.none, ["< 421 too many"]).last == "! failed (connect): 421 too many")
    }

    @Test("FEAT refused: no features, straight to TYPE I")
    func noFeat() {
        #expect(login(.none, ["< 220 hi", "< 230 in", "< 502 no FEAT"]).last == "> TYPE I")
    }
}

@Suite("FTP publish machine (transcripts)")
struct FTPPublishMachineTests {
    let happy = [
        "< 257 created", "< 550 exists", "< 229 Entering Extended Passive Mode (|||18105|)", "~connected",
        "< 150 Ok to send data.", "~ready", "~finished 1234", "< 226 Transfer complete.", "< 213 1234",
        "< 350 Ready for RNTO.", "< 250 Rename successful.",
    ]

    @Test("the whole publish: MKD levels, EPSV, STOR to the temporary name, SIZE, rename")
    func happyPath() {
        #expect(
            publish(happy) == [
                "> MKD /in", "< 257 created", "> MKD /in/daily", "< 550 exists", "> EPSV",
                "< 229 Entering Extended Passive Mode (|||18105|)", "! openData 18105", "~connected",
                "> STOR /in/daily/.sales.csv.part", "< 150 Ok to send data.", "~ready", "! beginTransfer",
                "~finished 1234",
                "< 226 Transfer complete.", "> SIZE /in/daily/.sales.csv.part", "< 213 1234",
                "> RNFR /in/daily/.sales.csv.part", "< 350 Ready for RNTO.", "> RNTO /in/daily/sales.csv",
                "< 250 Rename successful.", "! published /in/daily/sales.csv 1234 size=1234",
            ])
    }

    @Test("the 226 may come before our end of the data connection, and the data handshake after the 150")
    func orderings() {
        var script = happy
        script.swapAt(5, 4)  // ~ready before 150
        script.swapAt(6, 7)  // 226 before ~finished
        #expect(publish(script).last == "! published /in/daily/sales.csv 1234 size=1234")
    }

    @Test("EPSV refused: PASV, whose announced host is reported but not used for connecting")
    func pasvFallback() {
        let out = publish([
            "< 257 ok", "< 257 ok", "< 500 EPSV not understood", "< 227 Entering Passive Mode (10,0,0,9,70,200).",
        ])
        #expect(
            out.suffix(3) == [
                "> PASV", "< 227 Entering Passive Mode (10,0,0,9,70,200).", "! openData 18120 (announced 10.0.0.9)",
            ])
    }

    @Test("STOR refused: the data connection is dropped and nothing else happens")
    func storRefused() {
        let out = publish(["< 257 ok", "< 257 ok", "< 229 (|||5000|)", "~connected", "< 553 Could not create file."])
        #expect(
            out.suffix(2) == [
                "! abortData", "! failed FTP server refused STOR /in/daily/.sales.csv.part: 553 Could not create file.",
            ])
    }

    @Test("452 during the transfer: the temporary file is deleted and the error names the reply")
    func noSpace() {
        var machine = FTPPublishMachine(plan: plan, host: "ftp.test")
        _ = machine.start()
        for step in ["257 ok", "257 ok", "229 (|||5000|)"] { _ = machine.handle(.reply(reply(step))) }
        _ = machine.handle(.dataConnected)
        _ = machine.handle(.reply(reply("150 go")))
        _ = machine.handle(.dataReady)
        _ = machine.handle(.dataFinished(bytes: 10))
        #expect(
            machine.handle(.reply(reply("452 Insufficient storage"))).map(describe) == [
                "> DELE /in/daily/.sales.csv.part"
            ])
        #expect(
            machine.handle(.reply(reply("250 Delete ok"))).map(describe)
                == ["! failed FTP server refused STOR /in/daily/.sales.csv.part: 452 Insufficient storage"])
    }

    @Test("a cut upload that the server still calls complete (vsftpd: 226) is a failure, and the file is deleted")
    func cutUpload() {
        let out = publish([
            "< 257 ok", "< 257 ok", "< 229 (|||5000|)", "~connected", "< 150 go", "~ready", "~failed source died",
            "< 226 Transfer complete.", "< 250 Delete ok",
        ])
        #expect(
            out.suffix(4) == [
                "< 226 Transfer complete.", "> DELE /in/daily/.sales.csv.part", "< 250 Delete ok",
                "! failed FTP data connection to ftp.test failed: source died",
            ])
    }

    @Test("SIZE disagreeing with the bytes sent fails the publish and deletes the temporary file")
    func sizeMismatch() {
        var script = Array(happy.prefix(9))
        script[8] = "< 213 1000"
        let out = publish(script + ["< 250 Delete ok"])
        #expect(
            out.suffix(3) == [
                "> DELE /in/daily/.sales.csv.part", "< 250 Delete ok",
                "! failed FTP server stored 1000 bytes for /in/daily/.sales.csv.part but 1234 were sent",
            ])
    }

    @Test("a server that will not rename over the old file: swap through a backup, then delete the backup")
    func swap() {
        var script = Array(happy.prefix(10))
        script += ["< 550 Rename failed.", "< 350 ok", "< 250 ok", "< 350 ok", "< 250 ok", "< 250 Delete ok"]
        #expect(
            publish(script).dropLast().suffix(12) == [
                "> RNTO /in/daily/sales.csv", "< 550 Rename failed.", "> RNFR /in/daily/sales.csv", "< 350 ok",
                "> RNTO /in/daily/.sales.csv.bak", "< 250 ok", "> RNFR /in/daily/.sales.csv.part", "< 350 ok",
                "> RNTO /in/daily/sales.csv", "< 250 ok", "> DELE /in/daily/.sales.csv.bak", "< 250 Delete ok",
            ])
        #expect(publish(script).last == "! published /in/daily/sales.csv 1234 size=1234 swapped")
    }

    @Test("a failed second rename puts the old file back, then deletes the temporary one")
    func swapRestore() {
        var script = Array(happy.prefix(10))
        script += [
            "< 550 Rename failed.", "< 350 ok", "< 250 ok", "< 350 ok", "< 553 nope", "< 350 ok", "< 250 ok",
            "< 250 Delete ok",
        ]
        let out = publish(script)
        #expect(
            out.suffix(8) == [
                "< 553 nope", "> RNFR /in/daily/.sales.csv.bak", "< 350 ok", "> RNTO /in/daily/sales.csv", "< 250 ok",
                "> DELE /in/daily/.sales.csv.part", "< 250 Delete ok",
                "! failed FTP server refused RNTO /in/daily/sales.csv: 553 nope",
            ])
    }

    @Test("a rename refused where no old file exists is a plain failure: the temporary file goes")
    func renameRefused() {
        var script = Array(happy.prefix(10))
        script += ["< 553 Permission denied.", "< 550 No such file", "< 250 Delete ok"]
        #expect(publish(script).last == "! failed FTP server refused RNTO /in/daily/sales.csv: 553 Permission denied.")
    }

    @Test("aborted before the data connection: ends at the next reply, nothing to delete")
    func abortEarly() {
        var machine = FTPPublishMachine(plan: plan, host: "ftp.test")
        _ = machine.start()
        #expect(machine.handle(.aborted("stopped")) == [])
        #expect(machine.handle(.reply(reply("257 created"))).map(describe) == ["! failed upload aborted: stopped"])
        #expect(machine.isDone)
    }

    @Test("cancelled mid-transfer: ABOR, the STOR's final reply and then the ABOR's awaited, then DELE")
    func cancelMidTransfer() {
        let script =
            Array(happy.prefix(6)) + [
                "~cancel cancelled", "< 426 Failure reading network stream.", "< 225 No transfer to ABOR.",
                "< 250 Delete operation successful.",
            ]
        #expect(
            Array(publish(script).suffix(7)) == [
                "~cancel cancelled", "! abortTransfer", "< 426 Failure reading network stream.",
                "< 225 No transfer to ABOR.", "> DELE /in/daily/.sales.csv.part", "< 250 Delete operation successful.",
                "! failed upload aborted: cancelled",
            ])
        // A second cancel, or one after the STOR's final reply, sends no second ABOR.
        let late = Array(happy.prefix(6)) + ["< 226 Transfer complete.", "~cancel cancelled"]
        #expect(publish(late).suffix(2) == ["~cancel cancelled", "> DELE /in/daily/.sales.csv.part"])
    }

    @Test("cancelled before STOR: no ABOR, ends at the next reply like an abort")
    func cancelEarly() {
        var machine = FTPPublishMachine(plan: plan, host: "ftp.test")
        _ = machine.start()
        #expect(machine.handle(.cancelled("stopped")) == [])
        #expect(machine.handle(.reply(reply("257 created"))).map(describe) == ["! failed upload aborted: stopped"])
    }

    @Test("directory levels: absolute, relative, none")
    func levels() {
        #expect(FTPPublishPlan.levels(of: "/a/b/c") == ["/a", "/a/b", "/a/b/c"])
        #expect(FTPPublishPlan.levels(of: "in/daily/") == ["in", "in/daily"])
        #expect(FTPPublishPlan.levels(of: "") == [])
        #expect(FTPPublishPlan.levels(of: "/") == [])
        var flat = plan
        flat.directoriesToCreate = []
        #expect(publish([], plan: flat).first == "> EPSV")
    }
}

@Suite("FTP session warnings")
struct FTPWarningTests {
    @Test("plain FTP and unverified TLS are called out; verified FTPS is not")
    func warnings() async throws {
        try TestEnv.require(.vsftpdPlain)
        let found: [String] = try await onLoop { loop, done in
            FTPSession.connect(loop: loop, configuration: plainConfiguration()) { result in
                guard case .success(let session) = result else { return done(.failure(TestFailure("\(result)"))) }
                let warnings = session.warnings
                session.quit { done(.success(warnings)) }
            }
        }
        #expect(found == ["plain FTP to 127.0.0.1: the password and the files travel unencrypted"])
    }
}
