import Foundation
import Testing

/// `pagelift lift` and the pipeline options, checked with LLVM's own tools.
@Suite struct InspectionTests {
    static func binary(_ name: String) throws -> URL {
        try #require(GuestProgram.all.first { $0.name == name }).binary()
    }

    @Test(arguments: [["-O0"], ["-O2"], ["--before-opt"], ["--pipeline", "light"]])
    func liftPrintsIRThatLLVMAccepts(options: [String]) throws {
        let program = try Self.binary("recursion")
        let lifted = try Execution.run([Tools.pagelift, "lift", program.path, "--symbol", "fib"] + options)
        #expect(lifted.status == 0, "\(lifted.standardError)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-lift-\(UUID().uuidString).ll")
        defer { try? FileManager.default.removeItem(at: file) }
        try lifted.standardOutput.write(to: file, atomically: true, encoding: .utf8)
        let verified = try Execution.run(["/usr/bin/env", "opt-19", "-passes=verify", "-disable-output", file.path])
        #expect(verified.status == 0, "opt-19: \(verified.standardError)")
        let compiled = try Execution.run(["/usr/bin/env", "llc-19", "-o", "/dev/null", file.path])
        #expect(compiled.status == 0, "llc-19: \(compiled.standardError)")
        // Named after the guest: the function, its blocks, its registers, its instructions.
        #expect(lifted.standardOutput.contains("define ghccc void @fib("))
        #expect(lifted.standardOutput.contains("\"fib+0x"))
        #expect(lifted.standardOutput.contains("%sp"))
        #expect(lifted.standardOutput.contains("; 106c4: add sp,sp,-48"))
    }

    /// `--tier-up` shows what hot code runs: dynamic-rounding operations for round-to-nearest-even,
    /// behind a check that hands other modes to the general code; without it, each operation
    /// tests frm and calls the runtime for other modes.
    @Test func liftShowsTheOptimizedTiersRoundingAssumption() throws {
        let program = try Self.binary("rounding_modes").path
        let general = try Execution.run([Tools.pagelift, "lift", program, "--symbol", "harmonic"])
        let tierUp = try Execution.run([Tools.pagelift, "lift", program, "--symbol", "harmonic", "--tier-up"])
        #expect(general.status == 0 && tierUp.status == 0, "\(general.standardError)\(tierUp.standardError)")
        #expect(general.standardOutput.contains("@pagelift_rounded_operation("))
        #expect(!general.standardOutput.contains("@pagelift_general_code("))
        #expect(tierUp.standardOutput.contains("@pagelift_general_code("))
        #expect(!tierUp.standardOutput.contains("@pagelift_rounded_operation("))
    }

    @Test func liftPrintsHostAssembly() throws {
        let lifted = try Execution.run([Tools.pagelift, "lift", try Self.binary("recursion").path, "--symbol", "fib", "--asm"])
        #expect(lifted.status == 0)
        #expect(lifted.standardOutput.contains("; host assembly"))
        // The region function's own label, and its code: the exit tail-calls through the map.
        #expect(lifted.standardOutput.contains("\nfib:\n"))
        #expect(lifted.standardOutput.contains("jmpq\t*"))
    }

    @Test func aBadPipelineIsAClearErrorWithStatus2() throws {
        let program = try Self.binary("hello").path
        // Options go before the program: everything after it belongs to the guest.
        for command in [["lift", "--symbol", "main"], ["run"]] {
            let result = try Execution.run([Tools.pagelift] + command + ["--pipeline", "function(no-such-pass)", program])
            #expect(result.status == 2)
            #expect(result.standardError.contains("invalid --pipeline"))
            #expect(result.standardError.contains("no-such-pass"))
            #expect(result.standardOutput.isEmpty)
        }
    }

    @Test func aBadCheapTierPipelineInTheConfigurationIsAClearErrorWithStatus2() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-tiers-\(UUID().uuidString).conf")
        defer { try? FileManager.default.removeItem(at: config) }
        try "base_pipeline = function(no-such-pass)\n".write(to: config, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["PAGELIFT_CONFIG"] = config.path
        let result = try Execution.run([Tools.pagelift, try Self.binary("hello").path], environment: environment)
        #expect(result.status == 2)
        #expect(result.standardError.contains("base_pipeline") && result.standardError.contains("no-such-pass"), "\(result.standardError)")
    }

    @Test func liftRejectsAnUnknownSymbol() throws {
        let result = try Execution.run([Tools.pagelift, "lift", try Self.binary("hello").path, "--symbol", "no_such_function"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("no symbol named"))
    }

    @Test func thePerfMapCoversEveryInstalledRegion() throws {
        let statistics = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-stats-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: statistics) }
        let result = try Execution.run([Tools.pagelift, "--perf-map", "--no-cache", "--tier-threshold", "20", "--stats-json", statistics.path,
                                        try Self.binary("dispatch_tables").path])
        #expect(result.status == 0)
        let mapPath = "/tmp/perf-\(result.processIdentifier).map"
        defer { try? FileManager.default.removeItem(atPath: mapPath) }
        let lines = try String(contentsOfFile: mapPath, encoding: .utf8).split(separator: "\n")
        let ranges = try lines.map { line -> (UInt64, UInt64, String) in
            let fields = line.split(separator: " ", maxSplits: 2)
            let start = try #require(UInt64(fields[0], radix: 16)), size = try #require(UInt64(fields[1], radix: 16))
            return (start, size, String(fields[2]))
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any]
        let regions = ["tier0", "tier1"].map { ((json?[$0] as? [String: Any])?["regions"] as? Int) ?? -1 }.reduce(0, +)
        #expect(ranges.count == regions)
        #expect(ranges.allSatisfy { $0.1 > 0 })
        #expect(ranges.contains { $0.2 == "main [tier 0]" })
        let sorted = ranges.sorted { $0.0 < $1.0 }
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.0 + a.1 <= b.0, "\(a.2) overlaps \(b.2)") }
    }

    @Test func dumpIRWritesEveryRegionAndAnIndex() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Execution.run([Tools.pagelift, "--dump-ir", directory.path, "--dump-asm", try Self.binary("hello").path])
        #expect(result.status == 42)
        let index = try String(contentsOf: directory.appendingPathComponent("index.tsv"), encoding: .utf8).split(separator: "\n")
        #expect(index.first == "address\tsymbol\ttier\tcompile_ms\tcode_bytes\tfunction")
        #expect(index.count > 10)
        for row in index.dropFirst() {
            let function = String(row.split(separator: "\t").last!)
            for suffix in [".lifted.ll", ".optimized.ll", ".s"] {
                #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(function + suffix).path), "\(function)\(suffix)")
            }
        }
    }

    @Test func compareRunsEachLevelWithIdenticalOutput() throws {
        let chart = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-chart-\(UUID().uuidString).svg")
        defer { try? FileManager.default.removeItem(at: chart) }
        let program = try Self.binary("dispatch_tables").path
        let table = try Execution.run([Tools.pagelift, "compare", "--levels", "O0,O1,O2", "--pipeline", "light", "--chart", chart.path, program])
        #expect(table.status == 0, "\(table.standardError)")
        let rows = table.standardOutput.split(separator: "\n").filter { $0.hasPrefix(" ") }
        #expect(rows.count == 5)   // header and four configurations
        for name in ["-O0", "-O1", "-O2", "light"] { #expect(rows.contains { $0.contains(" \(name) ") }) }
        let svg = try Data(contentsOf: chart)
        let parsed = try Execution.run(["/usr/bin/env", "python3", "-c",
                                        "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith('svg')", chart.path])
        #expect(parsed.status == 0, "the chart is not well-formed SVG: \(parsed.standardError)")
        #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))

        let json = try Execution.run([Tools.pagelift, "compare", "--levels", "O0,O2", "--json", program])
        let results = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]]
        #expect(results?.count == 2)
        #expect(results?.allSatisfy { ($0["regions"] as? Int ?? 0) > 0 && ($0["total_seconds"] as? Double ?? 0) > 0 } == true)
    }
}
