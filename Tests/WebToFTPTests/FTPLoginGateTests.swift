@_spi(Internals) import FTP
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
import Testing

@_spi(Internals) @testable import WebToFTP

@Suite("FTPLoginGate: when the run may log in, and what a login's end means")
struct FTPLoginGateTests {
    enum Step: Sendable {
        /// Ask for a login with this many sessions alive or logging in; the admission expected, as text.
        case admit(sessions: Int, expect: String)
        /// A login ended (nil: it succeeded) with this many other sessions alive; the verdict expected.
        case ended(FTPError?, others: Int, expect: FTPLoginGate.Verdict)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let steps: [Step]
        var testDescription: String { label }
    }

    static let refused = FTPError.reply(command: "PASS ***", code: 530, text: "Login incorrect.")
    static let untrusted = FTPError.tls(
        host: "ftp.example", .verificationFailed(host: "ftp.example", reason: .unknownCA(detail: "self-signed")))
    static let noTLS = FTPError.reply(command: "AUTH TLS", code: 534, text: "Policy requires no TLS")
    static let connectRefused = FTPError.connect(
        host: "ftp.example", .connectionRefused(host: "ftp.example", port: 21, address: "192.0.2.1:21"))
    static let timeout = FTPError.timeout(host: "ftp.example", phase: "(connect)", milliseconds: 15_000)
    static let busy = FTPError.reply(command: "(connect)", code: 421, text: "Too many connections")

    static let cases: [Case] = [
        Case(
            label: "the first login goes alone; the others wait for it",
            steps: [
                .admit(sessions: 0, expect: "login"), .admit(sessions: 1, expect: "wait"),
                .admit(sessions: 1, expect: "wait"),
            ]),
        Case(
            label: "after the first success, logins go in parallel",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(nil, others: 0, expect: .deliver),
                .admit(sessions: 1, expect: "login"), .admit(sessions: 2, expect: "login"),
            ]),
        Case(
            label: "530 to the first login: unusable, no further login",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(refused, others: 0, expect: .failAll(unusable: true)),
                .admit(sessions: 0, expect: "fail: FTP server refused PASS ***: 530 Login incorrect."),
            ]),
        Case(
            label: "certificate not trusted at the first login: unusable",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(untrusted, others: 0, expect: .failAll(unusable: true)),
                .admit(sessions: 0, expect: "fail: \(untrusted)"),
            ]),
        Case(
            label: "AUTH TLS refused at the first login: unusable",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(noTLS, others: 0, expect: .failAll(unusable: true)),
                .admit(sessions: 0, expect: "fail: \(noTLS)"),
            ]),
        Case(
            label: "connection refused at the first login: shared with the waiting, the next login alone again",
            steps: [
                .admit(sessions: 0, expect: "login"), .admit(sessions: 1, expect: "wait"),
                .ended(connectRefused, others: 0, expect: .failAll(unusable: false)),
                .admit(sessions: 0, expect: "login"), .admit(sessions: 1, expect: "wait"),
                .ended(nil, others: 0, expect: .deliver), .admit(sessions: 1, expect: "login"),
            ]),
        Case(
            label: "a timeout, then a 421, then a 530 before any success: the 530 makes it unusable",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(timeout, others: 0, expect: .failAll(unusable: false)),
                .admit(sessions: 0, expect: "login"), .ended(busy, others: 0, expect: .failAll(unusable: false)),
                .admit(sessions: 0, expect: "login"), .ended(refused, others: 0, expect: .failAll(unusable: true)),
            ]),
        Case(
            label: "a later 530 with sessions open: back off, keep to that many sessions",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(nil, others: 0, expect: .deliver),
                .admit(sessions: 1, expect: "login"), .admit(sessions: 2, expect: "login"),
                .ended(refused, others: 2, expect: .backOff(limit: 2)), .admit(sessions: 2, expect: "wait"),
                .admit(sessions: 1, expect: "login"),
            ]),
        Case(
            label: "a later 530 with no other session alive: that source's failure, not a limit",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(nil, others: 0, expect: .deliver),
                .admit(sessions: 0, expect: "login"), .ended(refused, others: 0, expect: .deliver),
                .admit(sessions: 0, expect: "login"),
            ]),
        Case(
            label: "a later transient failure or untrusted certificate: delivered, never unusable",
            steps: [
                .admit(sessions: 0, expect: "login"), .ended(nil, others: 0, expect: .deliver),
                .admit(sessions: 1, expect: "login"), .ended(connectRefused, others: 1, expect: .deliver),
                .admit(sessions: 1, expect: "login"), .ended(untrusted, others: 1, expect: .deliver),
                .admit(sessions: 1, expect: "login"),
            ]),
    ]

    @Test("each sequence of asks and login ends", arguments: cases)
    func sequence(_ item: Case) {
        var gate = FTPLoginGate()
        for (index, step) in item.steps.enumerated() {
            switch step {
            case .admit(let sessions, let expect):
                let admission: String
                switch gate.admit(sessions: sessions) {
                case .login: admission = "login"
                case .wait: admission = "wait"
                case .fail(let error): admission = "fail: \(error)"
                }
                #expect(admission == expect, "step \(index)")
            case .ended(let failure, let others, let expect):
                #expect(gate.loginEnded(failure, others: others) == expect, "step \(index)")
            }
        }
    }
}
