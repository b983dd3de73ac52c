import Testing

@testable import web2ftp

@Suite("web2ftp manual/schedule: -v, -vv, --trace, --quiet")
struct VerbosityTests {
    static func parse(_ flags: [String]) throws -> RunArguments {
        switch RunArguments.parse(["sequential"] + flags) {
        case .success(let parsed): return parsed
        case .failure(let message):
            Issue.record("\(flags): \(message.text)")
            throw message
        }
    }

    @Test(
        "verbose and trace from the flags",
        arguments: [
            ([], false, false), (["-v"], true, false), (["--verbose"], true, false), (["-vv"], true, true),
            (["-v", "-v"], true, true), (["--verbose", "-v"], true, true), (["--trace"], true, true),
            (["-vvv"], true, true), (["--trace", "-v"], true, true), (["--quiet", "--trace"], true, true),
        ])
    func levels(flags: [String], verbose: Bool, trace: Bool) throws {
        let parsed = try Self.parse(flags)
        #expect(parsed.verbose == verbose)
        #expect(parsed.trace == trace)
        #expect(parsed.quiet == flags.contains("--quiet"))
    }

    @Test("near misses are unknown options", arguments: ["-vx", "--vv", "-trace", "-vV"])
    func nearMisses(flag: String) {
        guard case .failure(let message) = RunArguments.parse(["parallel", flag]) else {
            Issue.record("\(flag) was accepted")
            return
        }
        #expect(message.text.contains("unknown option '\(flag)'"))
    }

    @Test("- after the mode is an argument too many")
    func dash() {
        guard case .failure(let message) = RunArguments.parse(["parallel", "-"]) else {
            Issue.record("- was accepted")
            return
        }
        #expect(message.text.contains("unexpected argument '-'"))
    }
}
