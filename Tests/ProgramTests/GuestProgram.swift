import Foundation
import Testing

/// A C or C++ guest program in `Programs/`, with its expectations read from header comments:
/// `// args: a "b c"`, `// stdin: text\n` (C escapes), `// cflags: ...`, `// expect-signal`, and
/// `// link: dynamic` (linked against the cross toolchain's shared glibc, run with `-L` its root).
struct GuestProgram: CustomTestStringConvertible, Sendable {
    let source: URL
    let arguments: [String]
    let standardInput: String
    let expectsSignal: Bool
    /// Extra compiler flags (`// cflags: -march=...`).
    let compilerFlags: [String]
    /// Dynamically linked: run with `-L GuestProgram.crossRoot` under qemu and pagelift alike.
    let dynamic: Bool

    /// Debian's cross packages' riscv64 root: ld.so, libc, libstdc++.
    static let crossRoot = "/usr/riscv64-linux-gnu"

    /// What qemu-riscv64 and pagelift are given before the program: the guest root, for a dynamic one.
    var rootArguments: [String] { dynamic ? ["-L", Self.crossRoot] : [] }

    var name: String { source.deletingPathExtension().lastPathComponent }
    var testDescription: String { name }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Programs")
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var all: [GuestProgram] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return files.filter { ["c", "cpp"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map(GuestProgram.init(source:))
    }

    init(source: URL) {
        self.source = source
        let header = ((try? String(contentsOf: source, encoding: .utf8)) ?? "").split(separator: "\n").prefix(5)
        func directive(_ key: String) -> String? {
            header.first { $0.hasPrefix("// \(key):") }.map { String($0.dropFirst(key.count + 4)).trimmingCharacters(in: .whitespaces) }
        }
        arguments = directive("args").map(Self.splitArguments) ?? []
        standardInput = (directive("stdin") ?? "").replacingOccurrences(of: "\\n", with: "\n")
        expectsSignal = header.contains { $0.hasPrefix("// expect-signal") }
        compilerFlags = directive("cflags").map(Self.splitArguments) ?? []
        dynamic = directive("link") == "dynamic"
    }

    /// Splits on spaces, keeping double-quoted parts together.
    static func splitArguments(_ text: String) -> [String] {
        var result: [String] = [], current = "", quoted = false
        for character in text {
            if character == "\"" { quoted.toggle(); continue }
            if character == " " && !quoted {
                if !current.isEmpty { result.append(current); current = "" }
            } else { current.append(character) }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Cross-compiles the program (-O2, -static unless dynamic) once; later calls reuse the binary while the source is older.
    func binary() throws -> URL {
        let outputDirectory = Self.packageRoot.appendingPathComponent(".build/guest-programs")
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let output = outputDirectory.appendingPathComponent(name)
        let sourceDate = try source.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate ?? .distantFuture
        if let built = try? output.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate, built > sourceDate {
            return output
        }
        let compiler = source.pathExtension == "cpp" ? "riscv64-linux-gnu-g++" : "riscv64-linux-gnu-gcc"
        let temporary = outputDirectory.appendingPathComponent("\(name).\(UUID().uuidString)")
        let result = try Execution.run(["/usr/bin/env", compiler, "-O2"] + (dynamic ? [] : ["-static"]) + compilerFlags + ["-o", temporary.path, source.path, "-lm"])
        guard result.status == 0 else { throw HarnessError("compiling \(name) failed:\n\(result.standardError)") }
        // rename(2) replaces atomically, so concurrent cases building the same program never see half a file.
        guard rename(temporary.path, output.path) == 0 else { throw HarnessError("cannot install \(output.path)") }
        return output
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One finished process: its output and how it ended.
struct Execution: Equatable {
    static func == (a: Execution, b: Execution) -> Bool {
        a.output == b.output && a.standardError == b.standardError && a.status == b.status && a.killedBySignal == b.killedBySignal
    }

    var output: [UInt8]
    var standardOutput: String { String(decoding: output, as: UTF8.self) }
    var standardError: String
    /// Exit status, or 128 + signal for a process killed by a signal (as a shell reports it).
    var status: Int32
    var killedBySignal: Bool
    var processIdentifier: Int32 = 0

    static func run(_ command: [String], input: String = "", environment: [String: String]? = nil, timeout: TimeInterval = 300) throws -> Execution {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if let environment { process.environment = environment }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inputFile = scratch.appendingPathComponent("in"), outputFile = scratch.appendingPathComponent("out"), errorFile = scratch.appendingPathComponent("err")
        try input.write(to: inputFile, atomically: true, encoding: .utf8)
        for file in [outputFile, errorFile] {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else { throw HarnessError("cannot create \(file.path)") }
        }
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { process.terminate(); throw HarnessError("\(command.joined(separator: " ")) timed out after \(Int(timeout)) s") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let signaled = process.terminationReason == .uncaughtSignal
        return Execution(output: [UInt8](try Data(contentsOf: outputFile)),
                         standardError: try String(contentsOf: errorFile, encoding: .utf8),
                         status: signaled ? 128 + process.terminationStatus : process.terminationStatus,
                         killedBySignal: signaled, processIdentifier: process.processIdentifier)
    }
}

enum Tools {
    static var pagelift: String {
        if let path = ProcessInfo.processInfo.environment["PAGELIFT"] {
            // Absolute: some tests run it from another directory.
            return path.hasPrefix("/") ? path : GuestProgram.packageRoot.appendingPathComponent(path).path
        }
        // The debug build is the one `swift test` just made from this source; release may be stale.
        for configuration in ["debug", "release"] {
            let candidate = GuestProgram.packageRoot.appendingPathComponent(".build/\(configuration)/pagelift").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return GuestProgram.packageRoot.appendingPathComponent(".build/debug/pagelift").path
    }

    static let qemu = "/usr/bin/qemu-riscv64"
}
