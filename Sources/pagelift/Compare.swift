import ArgumentParser
import Foundation

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a program once per optimization level or pipeline and compare translation and execution time.",
        discussion: "Each run compiles every region at that level (no tiering). All runs must produce the same output and exit status.")

    @Option(help: "Comma-separated levels, e.g. O0,O2.") var levels: String = "O0,O1,O2,O3"
    @Option(name: .customLong("pipeline"), help: "A pipeline (string or name from Configs/pipelines.conf) to compare too; repeatable.")
    var pipelines: [String] = []
    @Option(help: "Runs per configuration; the table shows medians.") var `repeat`: Int = 1
    @Option(help: "Write an SVG bar chart of translation and execution time to this file.") var chart: String?
    @Flag(help: "Print the results as JSON instead of a table.") var json = false
    @Argument(help: "The RISC-V program.") var program: String
    @Argument(parsing: .captureForPassthrough, help: "Arguments for the program.") var arguments: [String] = []

    struct Configuration { let name: String; let options: [String] }

    struct Result: Codable {
        var configuration: String
        var translateSeconds: Double
        var executeSeconds: Double
        var totalSeconds: Double
        var codeBytes: Int
        var regions: Int
        var guestInstructions: Int
        var guestInstructionsPerSecond: Double
    }

    func validate() throws {
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        for level in levels.split(separator: ",") where !["O0", "O1", "O2", "O3"].contains(String(level)) {
            throw ValidationError("unknown level '\(level)' (use O0, O1, O2, O3)")
        }
    }

    func run() throws {
        let configurations = levels.split(separator: ",").map { Configuration(name: "-\($0)", options: ["-\($0)"]) }
            + pipelines.map { Configuration(name: $0, options: ["--pipeline", $0]) }
        guard !configurations.isEmpty else { throw ValidationError("nothing to compare") }
        let executable = absolutePath(CommandLine.arguments[0])
        var results: [Result] = []
        var reference: (output: Data, error: Data, status: Int32)?
        for configuration in configurations {
            var samples: [Result] = []
            for _ in 0..<`repeat` {
                let run = try measure(executable: executable, configuration: configuration)
                if let reference, reference.output != run.output || reference.error != run.error || reference.status != run.status {
                    fail("\(configuration.name) produced different output or exit status (\(run.status) vs \(reference.status)) than \(configurations[0].name)")
                }
                reference = reference ?? (run.output, run.error, run.status)
                samples.append(run.result)
            }
            results.append(median(samples))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            printTable(results)
        }
        if let chart { try svgChart(results).write(toFile: chart, atomically: true, encoding: .utf8) }
    }

    private func measure(executable: String, configuration: Configuration) throws -> (result: Result, output: Data, error: Data, status: Int32) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let statistics = scratch.appendingPathComponent("stats.json"), output = scratch.appendingPathComponent("out"), error = scratch.appendingPathComponent("err")
        guard FileManager.default.createFile(atPath: output.path, contents: nil),
              FileManager.default.createFile(atPath: error.path, contents: nil) else { fail("cannot create files in \(scratch.path)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", "--no-tiering", "--no-cache", "--stats-json", statistics.path] + configuration.options + [program] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: error)
        let start = Date()
        try process.run()
        process.waitUntilExit()
        let wall = Date().timeIntervalSince(start)
        let outputData = try Data(contentsOf: output), errorData = try Data(contentsOf: error)
        guard let stats = try? JSONSerialization.jsonObject(with: Data(contentsOf: statistics)) as? [String: Any],
              let tier = stats["tier0"] as? [String: Any] else {
            fail("\(configuration.name): the run failed: \(String(decoding: errorData, as: UTF8.self))")
        }
        let translate = ["lift_seconds", "optimize_seconds", "codegen_seconds"].map { tier[$0] as? Double ?? 0 }.reduce(0, +)
        let instructions = tier["guest_instructions"] as? Int ?? 0
        let result = Result(configuration: configuration.name, translateSeconds: translate, executeSeconds: max(0, wall - translate),
                            totalSeconds: wall, codeBytes: tier["code_bytes"] as? Int ?? 0, regions: tier["regions"] as? Int ?? 0,
                            guestInstructions: instructions, guestInstructionsPerSecond: translate > 0 ? Double(instructions) / translate : 0)
        return (result, outputData, errorData, process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus)
    }

    private func median(_ samples: [Result]) -> Result {
        func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        var result = samples[0]
        result.translateSeconds = middle(samples.map(\.translateSeconds))
        result.executeSeconds = middle(samples.map(\.executeSeconds))
        result.totalSeconds = middle(samples.map(\.totalSeconds))
        result.guestInstructionsPerSecond = middle(samples.map(\.guestInstructionsPerSecond))
        return result
    }

    private func printTable(_ results: [Result]) {
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        let width = max(14, results.map(\.configuration.count).max() ?? 0 + 2)
        print(pad("configuration", width) + pad("translate s", 13) + pad("execute s", 11) + pad("total s", 9)
              + pad("code bytes", 12) + pad("regions", 9) + pad("guest insns/s", 15))
        for r in results {
            print(pad(r.configuration, width) + pad(String(format: "%.3f", r.translateSeconds), 13) + pad(String(format: "%.3f", r.executeSeconds), 11)
                  + pad(String(format: "%.3f", r.totalSeconds), 9) + pad(String(r.codeBytes), 12) + pad(String(r.regions), 9)
                  + pad(String(Int(r.guestInstructionsPerSecond)), 15))
        }
        print("medians of \(`repeat`) run(s); execute = wall time - translation, so it includes start-up")
    }

    /// Horizontal stacked bars: translation and execution per configuration.
    private func svgChart(_ results: [Result]) -> String {
        let longest = max(results.map(\.totalSeconds).max() ?? 1, 0.001)
        let barHeight = 28, top = 40, left = 160, plotWidth = 560
        let height = top + results.count * (barHeight + 12) + 40
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var svg = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + plotWidth + 120)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"13\">",
                   "<text x=\"10\" y=\"22\" font-size=\"15\">pagelift compare: \(escape((program as NSString).lastPathComponent)) (seconds)</text>"]
        for (index, r) in results.enumerated() {
            let y = top + index * (barHeight + 12)
            let translate = Int(Double(plotWidth) * r.translateSeconds / longest), execute = Int(Double(plotWidth) * r.executeSeconds / longest)
            svg.append("<text x=\"10\" y=\"\(y + 19)\">\(escape(r.configuration))</text>")
            svg.append("<rect x=\"\(left)\" y=\"\(y)\" width=\"\(translate)\" height=\"\(barHeight)\" fill=\"#d9822b\"><title>translation \(String(format: "%.3f", r.translateSeconds)) s</title></rect>")
            svg.append("<rect x=\"\(left + translate)\" y=\"\(y)\" width=\"\(execute)\" height=\"\(barHeight)\" fill=\"#2b6cd9\"><title>execution \(String(format: "%.3f", r.executeSeconds)) s</title></rect>")
            svg.append("<text x=\"\(left + translate + execute + 6)\" y=\"\(y + 19)\">\(String(format: "%.3f", r.totalSeconds))</text>")
        }
        let legend = top + results.count * (barHeight + 12) + 10
        svg.append("<rect x=\"\(left)\" y=\"\(legend)\" width=\"14\" height=\"14\" fill=\"#d9822b\"/><text x=\"\(left + 20)\" y=\"\(legend + 12)\">translation</text>")
        svg.append("<rect x=\"\(left + 120)\" y=\"\(legend)\" width=\"14\" height=\"14\" fill=\"#2b6cd9\"/><text x=\"\(left + 140)\" y=\"\(legend + 12)\">execution</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
