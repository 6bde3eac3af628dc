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

    static let modes: [[String]] = [["-O0", "--no-cache"], ["-O2", "--no-cache"], ["-O2", "--tier-threshold", "1", "--no-cache"]]

    @Test(arguments: GuestProgram.all, modes)
    func matchesQemu(program: GuestProgram, mode: [String]) throws {
        let binary = try program.binary()
        let expected = try Execution.run([Tools.qemu] + program.rootArguments + [binary.path] + program.arguments,
                                         input: program.standardInput, environment: Self.environment)
        let actual = try Execution.run([Tools.pagelift] + mode + program.rootArguments + [binary.path] + program.arguments,
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
        let actual = try Execution.run([Tools.pagelift, "--no-cache", "--tier-threshold", "20", "--stats-json", statistics.path]
                                       + (synchronous ? ["--sync-tier-up"] : []) + [binary.path, "2"])
        #expect(actual == expected)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any]
        let promoted = (json?["tier1"] as? [String: Any])?["regions"] as? Int ?? 0
        let base = (json?["tier0"] as? [String: Any])?["regions"] as? Int ?? 0
        #expect(promoted > 0 && promoted <= base, "tier 1 regions: \(promoted), tier 0: \(base)")
    }

    /// Optimized code takes over an inner loop while it runs, not only when its outer loop comes
    /// round: loop_nest's first round is two million iterations of its inner loop, which first-tier
    /// code would count to the end.
    @Test func optimizedCodeTakesOverARunningInnerLoop() throws {
        let program = try #require(GuestProgram.all.first { $0.name == "loop_nest" })
        let binary = try program.binary()
        let statistics = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-stats-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: statistics) }
        let expected = try Execution.run([Tools.qemu, binary.path] + program.arguments)
        let actual = try Execution.run([Tools.pagelift, "--no-cache", "--tier-threshold", "20", "--sync-tier-up", "--stats-json", statistics.path,
                                        binary.path] + program.arguments)
        #expect(actual == expected)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any]
        let counted = json?["tier0_executions"] as? Int ?? -1
        #expect(counted >= 20 && counted < 100_000, "first-tier code counted \(counted)")
    }

    /// The speculation thread compiles code ahead of the guest, which then runs some of it;
    /// the run is the same with it and without it (speculation_distance = 0).
    @Test(arguments: [true, false])
    func speculationCompilesAheadWithoutChangingTheRun(speculating: Bool) throws {
        let program = try #require(GuestProgram.all.first { $0.name == "stl" })
        let binary = try program.binary()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-speculation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let statistics = scratch.appendingPathComponent("stats.json"), configuration = scratch.appendingPathComponent("tiers.conf")
        try "speculation_distance = \(speculating ? 2 : 0)\n".write(to: configuration, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["PAGELIFT_CONFIG"] = configuration.path
        let expected = try Execution.run([Tools.qemu, binary.path])
        let actual = try Execution.run([Tools.pagelift, "--no-cache", "--stats-json", statistics.path, binary.path], environment: environment)
        #expect(actual == expected)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any]
        let speculated = (json?["tier0_speculated"] as? [String: Any])?["regions"] as? Int ?? -1
        let entered = json?["speculated_regions_entered"] as? Int ?? -1
        let base = (json?["tier0"] as? [String: Any])?["regions"] as? Int ?? -1
        if speculating {
            #expect(speculated > 0 && entered > 0 && entered <= speculated && speculated < base, "speculated \(speculated), entered \(entered), tier 0 \(base)")
        } else {
            #expect(speculated == 0 && entered == 0)
        }
    }

    /// Exception flags are kept exact for a program that reads them (float_flags calls
    /// fetestexcept) and only for it: compute never reads them (gcc's quiet comparisons save and
    /// restore them, which does not count), so its arithmetic is LLVM's ordinary one.
    @Test(arguments: [("float_flags", true), ("compute", false), ("rounding_modes", false)])
    func flagsAreKeptExactlyWhereTheProgramReadsThem(name: String, exact: Bool) throws {
        let program = try #require(GuestProgram.all.first { $0.name == name })
        let statistics = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-stats-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: statistics) }
        let result = try Execution.run([Tools.pagelift, "--no-cache", "--stats-json", statistics.path, try program.binary().path] + program.arguments)
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any]
        #expect(json?["float_flags_exact"] as? Bool == exact)
    }

    /// A second run takes its code from the disk cache; a damaged cache is ignored and rewritten.
    @Test func aWarmRunSkipsTranslationAndADamagedCacheIsRebuilt() throws {
        let program = try #require(GuestProgram.all.first { $0.name == "stl" })
        let binary = try program.binary()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let cache = scratch.appendingPathComponent("cache"), statistics = scratch.appendingPathComponent("stats.json")
        let expected = try Execution.run([Tools.qemu, binary.path])
        func run() throws -> (Execution, tier0: Int, tier1: Int, hits: Int, stores: Int) {
            let result = try Execution.run([Tools.pagelift, "--cache-dir", cache.path, "--stats-json", statistics.path, binary.path])
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any]
            return (result, ((json?["tier0"] as? [String: Any])?["regions"] as? Int) ?? -1,
                    ((json?["tier1"] as? [String: Any])?["regions"] as? Int) ?? -1,
                    json?["cache_hits"] as? Int ?? -1, json?["cache_stores"] as? Int ?? -1)
        }
        let cold = try run()
        #expect(cold.0 == expected)
        #expect(cold.hits == 0 && cold.stores > 0 && cold.tier0 > 0)
        let warm = try run()
        #expect(warm.0 == expected)
        // Every region comes from the cache. Optimized code from the first run that took in other
        // regions' entries (and called functions) serves them too, so there may be fewer than before.
        // (Hot code whose optimization the first run did not finish before the guest exited may
        // be optimized now.)
        #expect(warm.tier0 == 0 && warm.hits > 0 && warm.hits <= cold.tier0 + cold.tier1)
        for file in try FileManager.default.contentsOfDirectory(atPath: cache.path) {
            try Data("not an object".utf8).write(to: cache.appendingPathComponent(file))
        }
        let damaged = try run()
        #expect(damaged.0 == expected)
        #expect(damaged.hits == 0 && damaged.stores > 0)
    }

    @Test func runsTheWholeSuite() {
        #expect(GuestProgram.all.count >= 15)
    }
}
