import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// One row of the fault matrix: where the fault sits, what it is, and how the run must end.
struct FaultCase: CustomTestStringConvertible, Sendable {
    enum Side: Sendable {
        /// Between web2ftp and nginx: plain HTTP, or HTTPS (the proxy then sees only ciphertext).
        case http(tls: Bool)
        /// Between web2ftp and vsftpd: plain FTP (the proxy reads the commands and rewrites EPSV/PASV replies so
        /// data connections pass it too), or explicit FTPS (faults by offset only).
        case ftp(tls: Bool)
        /// A misbehaving web server of the test's own (HTTPS with the test CA's certificate) in place of nginx; the
        /// script is made afresh for each run, so it may count.
        case scriptedHTTP(
            tls: Bool, script: @Sendable () -> @Sendable (_ connection: Int, _ request: String) -> [ScriptedServer.Step]
        )
        /// A misbehaving plain-FTP server of the test's own in place of vsftpd, for both sources.
        case scriptedFTP(script: @Sendable () -> @Sendable (_ command: String) -> [ScriptedFTPServer.Step]?)
    }

    enum Expect: Sendable {
        /// Published correctly after this many retries.
        case published(retries: Int)
        /// The source failed; its reason contains this text.
        case failed(String)
    }

    let phase: String
    let side: Side
    let faults: [Fault]
    let expect: Expect
    var file = "large.csv"
    var host: String? = nil
    /// False where the fault takes the FTP server away for every source.
    var otherPublishes = true
    /// The exit status of a row whose victim fails: 4 where the run's first login fails for good.
    var failedStatus: Int32 = 1
    /// The victim's URL says https while the scripted server speaks plain TCP (it never answers the handshake).
    var httpsToPlain = false
    /// `sequential`, or `parallel`: both sources at once, each on its own FTP session.
    var mode = "sequential"

    /// What the misbehaving server does, for rows without a proxy fault.
    var misbehaviour = ""
    /// For a row whose victim fails: what its `failed` line says after `class=` (the class, and the attempts).
    var failedClass: String? = nil

    var faultDescription: String {
        misbehaviour.isEmpty ? faults.map(\.description).joined(separator: "; ") : misbehaviour
    }
    var testDescription: String { "\(phase)\(mode == "parallel" ? " (parallel)" : ""): \(faultDescription)" }

    static func row(_ phase: String, _ side: Side, _ faults: [Fault], _ expect: Expect, file: String = "large.csv")
        -> FaultCase
    {
        FaultCase(phase: phase, side: side, faults: faults, expect: expect, file: file)
    }

    /// (cut, reset, stall) of one place: each costs the first attempt, the retry publishes.
    static func three(
        _ phase: String, _ side: Side, _ direction: Fault.Direction, _ trigger: Fault.Trigger,
        connection: Int = 1, channel: Fault.Channel = .control, retries: Int = 1
    ) -> [FaultCase] {
        [Fault.Kind.cut, .reset, .stall].map { kind in
            row(
                phase, side, [Fault(kind, direction, at: trigger, connection: connection, channel: channel)],
                .published(retries: retries))
        }
    }

    /// The body drips from `offset`, then `kind` strikes 600 ms in: by time, since with the drip that is mid-body
    /// whatever the machine's speed. It costs the first attempt, the retry publishes.
    static func dripThen(_ kind: Fault.Kind, _ phase: String, _ side: Side, from offset: Int) -> FaultCase {
        row(
            phase, side,
            [
                Fault(.drip(milliseconds: 2), .toClient, at: .offset(offset)),
                Fault(kind, .toClient, at: .time(milliseconds: 600)),
            ], .published(retries: 1))
    }

    static let all: [FaultCase] = {
        let http = Side.http(tls: false)
        let https = Side.http(tls: true)
        let ftp = Side.ftp(tls: false)
        let ftps = Side.ftp(tls: true)
        var rows: [FaultCase] = []
        var resolve = row("resolve", http, [], .failed("no-such-host.invalid"))
        resolve.host = "no-such-host.invalid"
        rows.append(resolve)
        rows.append(row("HTTP connect", http, [Fault(.refuse)], .published(retries: 1)))
        rows.append(row("HTTP connect", http, [Fault(.refuse, connection: 0)], .failed("127.0.0.1")))
        rows += three("TLS handshake (HTTPS)", https, .toClient, .offset(0))
        rows += three("TLS handshake (HTTPS)", https, .toClient, .offset(60))
        rows += three("HTTP request", http, .toServer, .offset(5))
        rows += three("HTTP head", http, .toClient, .offset(20))
        rows += three("HTTP body", http, .toClient, .offset(100_000))
        rows += three("HTTPS body", https, .toClient, .offset(100_000))
        rows.append(
            row("HTTPS body", https, [Fault(.corrupt, .toClient, at: .offset(100_000))], .published(retries: 1)))
        rows.append(
            row(
                "HTTP head", http, [Fault(.delay(milliseconds: 700), .toClient, at: .offset(0))], .published(retries: 0)
            ))
        rows.append(
            row(
                "HTTP body", http, [Fault(.drip(milliseconds: 2), .toClient, at: .offset(150))], .published(retries: 0),
                file: "small.csv"))
        rows.append(dripThen(.reset, "HTTP body", http, from: 150))
        rows.append(dripThen(.cut, "HTTPS body", https, from: 5000))
        // The run's first FTP session does the leftover check before any source starts: a fault in its connect,
        // login or TLS handshake costs that check (a warning) and the sources log in afresh, with no retry.
        rows.append(row("FTP connect", ftp, [Fault(.refuse)], .published(retries: 0)))
        var down = row("FTP connect", ftp, [Fault(.refuse, connection: 0)], .failed("FTP"))
        down.otherPublishes = false
        rows.append(down)
        rows += three("FTP login", ftp, .toServer, .line("PASS"), retries: 0)
        rows += three("TLS handshake (FTPS control)", ftps, .toClient, .offset(120), retries: 0)
        // The leftover check's listing uses the first EPSV, data connection and 226 of the session; the victim's
        // upload the second.
        rows += three("EPSV", ftp, .toServer, .line("EPSV", occurrence: 2))
        rows.append(row("data connect", ftp, [Fault(.refuse, connection: 2, channel: .data)], .published(retries: 1)))
        rows += three("STOR", ftp, .toServer, .line("STOR"))
        rows += three("upload data", ftp, .toServer, .offset(100_000), connection: 2, channel: .data)
        rows += three("226", ftp, .toClient, .line("226", occurrence: 2))
        rows += three("SIZE", ftp, .toServer, .line("SIZE"))
        rows += three("rename", ftp, .toServer, .line("RNFR"))
        // Ciphertext offsets measured against this vsftpd: the login ends near byte 1000 from the client, the victim's
        // upload commands span 1100–1700, the other source's follow.
        rows += three("FTPS control, mid-session (victim's upload)", ftps, .toServer, .offset(1350))
        rows += misbehavingServers
        // Again with both sources at once, where the victim's fault is its own (the web side, and the scripted FTP
        // server that misbehaves on the victim's files only): the other source, on a session of its own, must not
        // notice. The proxied FTP rows count connections and commands of a sequential run, so they stay sequential.
        return rows
            + rows.filter(\.victimOnly).map { row in
                var parallel = row
                parallel.mode = "parallel"
                return parallel
            }
    }()

    var victimOnly: Bool {
        switch side {
        case .http, .scriptedHTTP, .scriptedFTP: true
        case .ftp: false
        }
    }
}
