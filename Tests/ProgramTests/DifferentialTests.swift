import Foundation
import Testing

/// Every guest program runs under qemu-riscv64 (the oracle) and under pagelift at -O0
/// and -O2; stdout, stderr and exit status must match.
@Suite struct DifferentialTests {
    static let environment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        environment["PAGELIFT_TEST_VALUE"] = "value with spaces"
        return environment
    }()

    @Test(arguments: GuestProgram.all, [0, 2])
    func matchesQemu(program: GuestProgram, level: Int) throws {
        let binary = try program.binary()
        let expected = try Execution.run([Tools.qemu, binary.path] + program.arguments,
                                         input: program.standardInput, environment: Self.environment)
        let actual = try Execution.run([Tools.pagelift, "-O\(level)", binary.path] + program.arguments,
                                       input: program.standardInput, environment: Self.environment)
        #expect(actual.standardOutput == expected.standardOutput)
        #expect(actual.status == expected.status)
        #expect(actual.killedBySignal == program.expectsSignal)
        if program.expectsSignal {
            // qemu dies silently; pagelift names the signal (and pc or address) on one line of its own.
            let ours = actual.standardError.split(separator: "\n", omittingEmptySubsequences: false)
            let diagnostic = ours.filter { $0.hasPrefix("pagelift: guest ") }
            #expect(diagnostic.count == 1, "expected one diagnostic line, got: \(actual.standardError)")
            let rest = ours.filter { !$0.hasPrefix("pagelift: guest ") }.joined(separator: "\n")
            #expect(rest == expected.standardError)
        } else {
            #expect(actual.standardError == expected.standardError)
        }
    }

    @Test func runsTheWholeSuite() {
        #expect(GuestProgram.all.count >= 15)
    }
}
