import Foundation
@_spi(Internals) import TestSupport

/// Rows of the fault matrix that a proxy cannot fake: servers of the test's own that lie, go quiet, or answer out of
/// turn. The victim's traffic goes to them; on the FTP side both sources do, and the server misbehaves on the
/// victim's files only.
extension FaultCase {
    static var misbehavingServers: [FaultCase] {
        var rows: [FaultCase] = []
        func web(
            _ phase: String, tls: Bool = false, _ misbehaviour: String, _ expect: Expect,
            _ script: @escaping @Sendable (_ connection: Int, _ body: [UInt8]) -> [ScriptedServer.Step]
        ) {
            var row = FaultCase(
                phase: phase,
                side: .scriptedHTTP(tls: tls) {
                    let body = Canned.csv("small.csv")
                    return { connection, _ in script(connection, body) }
                }, faults: [], expect: expect, file: "small.csv")
            row.misbehaviour = misbehaviour
            rows.append(row)
        }
        func ftp(
            _ phase: String, _ misbehaviour: String, _ expect: Expect, otherPublishes: Bool = true,
            failedStatus: Int32 = 1,
            _ script: @escaping @Sendable (_ command: String, _ seen: Int) -> [ScriptedFTPServer.Step]?
        ) {
            var row = FaultCase(
                phase: phase,
                side: .scriptedFTP {
                    let counts = Locked([String: Int]())
                    return { command in
                        // How often this verb was seen for the victim (or for anyone else).
                        let key = String(command.prefix(4)) + (command.contains("victim") ? " victim" : "")
                        let seen = counts.withLock { counts -> Int in
                            counts[key, default: 0] += 1
                            return counts[key]!
                        }
                        return script(command, seen)
                    }
                }, faults: [], expect: expect)
            row.misbehaviour = misbehaviour
            row.otherPublishes = otherPublishes
            row.failedStatus = failedStatus
            rows.append(row)
        }
        let lying: @Sendable ([UInt8]) -> [ScriptedServer.Step] = { body in
            [.send(Canned.head(["Content-Length: \(body.count + 1000)"])), .bytes(body), .close]
        }
        web(
            "HTTP body", "Content-Length 1000 bytes longer than the body, then FIN; every time",
            .failed("truncated download: the body ended after"), { _, body in lying(body) })
        web(
            "HTTP body", "Content-Length 1000 bytes longer than the body, then FIN; first connection",
            .published(retries: 1), { connection, body in connection == 1 ? lying(body) : Canned.serve(body) })
        web(
            "HTTP body", "chunk size 'zz'", .failed("chunk"),
            { _, _ in
                [.send(Canned.head(["Transfer-Encoding: chunked"]) + "zz\r\nabc\r\n0\r\n\r\n"), .close]
            })
        web(
            "HTTP body", "chunk of 0x10000 announced, 3 bytes sent, then FIN",
            .failed("truncated download: the connection closed before the end"),
            { _, _ in
                [.send(Canned.head(["Transfer-Encoding: chunked"]) + "10000\r\nabc"), .close]
            })
        web(
            "HTTP head", "an SSH banner instead of a status line", .failed("status line"),
            { _, _ in
                [.send("SSH-2.0-OpenSSH_9.2\r\n\r\n"), .close]
            })
        web(
            "HTTP head", "a header line of 1 MiB (capped at 64 KiB)", .failed("header line"),
            { _, _ in
                [.send("HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n"), .close]
            })
        web(
            "HTTP head", "20,000 header fields (capped at 200)", .failed("header"),
            { _, _ in
                [.send("HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: b\r\n", count: 20_000) + "\r\n"), .close]
            })
        web(
            "HTTPS body", tls: true, "TLS closed without close_notify, body delimited by the close",
            .failed("without close_notify"),
            { _, body in [.send(Canned.head([], keepAlive: false)), .bytes(body), .closeWithoutNotify] })
        web(
            "HTTPS body", tls: true, "TLS closed without close_notify after the whole Content-Length body",
            .published(retries: 0), { _, body in Canned.serve(body) + [.closeWithoutNotify] })
        // Compressed sources (#18 part 1): a gzip file cut short is a truncation (transient, retried, never
        // published); a body that says gzip and is not is a lie no retry mends (permanent, one attempt).
        func gzipRow(
            _ misbehaviour: String, file: String, _ expect: Expect, failedClass: String,
            _ steps: @escaping @Sendable () -> [ScriptedServer.Step]
        ) {
            var row = FaultCase(
                phase: "HTTP body (gzip)", side: .scriptedHTTP(tls: false) { { _, _ in steps() } }, faults: [],
                expect: expect, file: file)
            row.misbehaviour = misbehaviour
            row.failedClass = failedClass
            rows.append(row)
        }
        gzipRow(
            "a .csv.gz whose gzip stream lacks its last 5 bytes (trailer), whole per Content-Length; every time",
            file: "small.csv.gz", .failed("truncated"), failedClass: "transient attempts=2"
        ) {
            let cut = Canned.csv("small.csv.gz").dropLast(5)
            return [.send(Canned.head(["Content-Length: \(cut.count)"])), .bytes(Array(cut))]
        }
        gzipRow(
            "Content-Encoding: gzip over a body that is plain CSV", file: "small.csv", .failed("not gzip"),
            failedClass: "permanent attempts=1"
        ) {
            let body = Canned.csv("small.csv")
            return [.send(Canned.head(["Content-Encoding: gzip", "Content-Length: \(body.count)"])), .bytes(body)]
        }
        var silent = FaultCase(
            phase: "TLS handshake (HTTPS)",
            side: .scriptedHTTP(tls: false) {
                { _, _ in [] }  // a plain server never sees a request end in a ClientHello: it says nothing at all
            }, faults: [], expect: .failed("timed out after 2000 ms"), file: "small.csv")
        silent.misbehaviour = "accepts, never answers the TLS handshake"
        silent.httpsToPlain = true
        rows.append(silent)

        ftp("226", "426 after the whole upload; first time", .published(retries: 1)) { command, seen in
            command.hasPrefix("STOR") && command.contains("victim") && seen == 1
                ? [.store(answer: "426 Connection closed; transfer aborted.")] : nil
        }
        ftp("226", "426 after the whole upload; every time", .failed("426")) { command, _ in
            command.hasPrefix("STOR") && command.contains("victim")
                ? [.store(answer: "426 Connection closed; transfer aborted.")] : nil
        }
        ftp("226", "no reply after the data; first time", .published(retries: 1)) { command, seen in
            command.hasPrefix("STOR") && command.contains("victim") && seen == 1 ? [.store(answer: nil)] : nil
        }
        ftp("226", "552 after the data (permanent)", .failed("552")) { command, _ in
            command.hasPrefix("STOR") && command.contains("victim") ? [.store(answer: "552 Quota exceeded")] : nil
        }
        ftp("STOR", "421 and close instead of 150; first time", .published(retries: 1)) { command, seen in
            command.hasPrefix("STOR") && command.contains("victim") && seen == 1
                ? [.reply("421 Service not available, closing control connection."), .drop] : nil
        }
        ftp("EPSV", "EPSV refused; PASV names 203.0.113.9 (another host)", .published(retries: 0)) { command, _ in
            command == "EPSV" ? [.reply("500 EPSV not understood")] : nil
        }
        ftp("SIZE", "SIZE answers 10 bytes short; first time", .published(retries: 1)) { command, seen in
            guard command.hasPrefix("SIZE") && command.contains("victim") && seen == 1 else { return nil }
            return [.reply("213 \(Canned.csv("large.csv").count - 10)")]
        }
        ftp("rename", "550 to RNTO (permission denied); every time", .failed("550")) { command, _ in
            command.hasPrefix("RNTO") && command.contains("victim") ? [.reply("550 Permission denied.")] : nil
        }
        ftp(
            "FTP login", "a FEAT reply of 100,000 lines (capped at 1000)", .failed("longer than 1000 lines"),
            otherPublishes: false, failedStatus: 4
        ) { command, _ in
            command == "FEAT"
                ? [.reply("211-Features:\r\n" + String(repeating: " X\r\n", count: 100_000) + "211 End")] : nil
        }
        ftp(
            "FTP login", "a reply line of 1 MiB (capped at 8 KiB)", .failed("longer than 8192 bytes"),
            otherPublishes: false, failedStatus: 4
        ) { command, _ in
            command == "FEAT" ? [.reply("211 " + String(repeating: "x", count: 1 << 20))] : nil
        }
        ftp("FTP login", "530 to PASS", .failed("530"), otherPublishes: false, failedStatus: 4) { command, _ in
            command.hasPrefix("PASS") ? [.reply("530 Login incorrect.")] : nil
        }
        return rows
    }
}

/// Canned responses for the scripted web servers: the test data as nginx would serve it.
enum Canned {
    static func csv(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: TestEnv.wwwDirectory + "/" + name) ?? Data())
    }

    static func head(_ fields: [String], keepAlive: Bool = true) -> String {
        (["HTTP/1.1 200 OK", "Content-Type: text/csv"] + fields + (keepAlive ? [] : ["Connection: close"]))
            .joined(separator: "\r\n") + "\r\n\r\n"
    }

    static func serve(_ body: [UInt8]) -> [ScriptedServer.Step] {
        [.send(head(["Content-Length: \(body.count)"])), .bytes(body)]
    }
}
