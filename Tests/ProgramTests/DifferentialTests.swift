import Foundation
import Testing

/// Every guest program runs under qemu-riscv64 (the oracle) and under pagelift at -O0,
/// at -O2, and at -O2 with every region promoted after its first execution, so optimized
/// code is swapped in while the guest runs; stdout, stderr and exit status must match.
@Suite struct DifferentialTests {
    static let environment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        environment["PAGELIFT_TEST_VALUE"] = "value with spaces"
        return environment
    }()

    static let modes: [[String]] = [["-O0"], ["-O2"], ["-O2", "--tier-threshold", "1"]]

    @Test(arguments: GuestProgram.all, modes)
    func matchesQemu(program: GuestProgram, mode: [String]) throws {
        let binary = try program.binary()
        let expected = try Execution.run([Tools.qemu, binary.path] + program.arguments,
                                         input: program.standardInput, environment: Self.environment)
        let actual = try Execution.run([Tools.pagelift] + mode + [binary.path] + program.arguments,
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

    /// Hot regions really are recompiled and installed while the guest keeps running.
    @Test(arguments: [false, true])
    func tierUpSwapsCodeWhileTheGuestRuns(synchronous: Bool) throws {
        let program = try #require(GuestProgram.all.first { $0.name == "compute" })
        let binary = try program.binary()
        let statistics = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-stats-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: statistics) }
        let expected = try Execution.run([Tools.qemu, binary.path, "2"])
        let actual = try Execution.run([Tools.pagelift, "--tier-threshold", "20", "--stats-json", statistics.path]
                                       + (synchronous ? ["--sync-tier-up"] : []) + [binary.path, "2"])
        #expect(actual == expected)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any]
        let promoted = (json?["tier1"] as? [String: Any])?["regions"] as? Int ?? 0
        let base = (json?["tier0"] as? [String: Any])?["regions"] as? Int ?? 0
        #expect(promoted > 0 && promoted <= base, "tier 1 regions: \(promoted), tier 0: \(base)")
    }

    @Test func runsTheWholeSuite() {
        #expect(GuestProgram.all.count >= 15)
    }
}
