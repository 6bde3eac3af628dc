#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ELF
import Engine
import Guest

@main
struct PageLift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pagelift",
        abstract: "Run Linux RISC-V (RV64GC) programs on x86-64, translated page by page through LLVM.",
        subcommands: [Run.self],
        defaultSubcommand: Run.self)
}

enum OptimizationLevel: Int, EnumerableFlag {
    case o0 = 0, o1, o2, o3
    static func name(for value: Self) -> NameSpecification { .customLong("O\(value.rawValue)", withSingleDash: true) }
    static func help(for value: Self) -> ArgumentHelp? { "Optimize translated pages at LLVM level \(value.rawValue)." }
}

/// Failures the user must see, reported once with a non-zero exit.
struct UsageFailure: Error, CustomStringConvertible {
    let description: String
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a guest program, like qemu-riscv64 PROGRAM ARGS...")

    @Flag(exclusivity: .chooseLast) var level: OptimizationLevel = .o2
    @Option(name: .customLong("pipeline"), help: "A new-pass-manager pipeline string to use instead of -O's.") var pipeline: String?
    @Option(name: .customShort("L"), help: "Sysroot for a dynamic program's interpreter and libraries.") var sysroot: String?
    @Flag(help: "Log every guest syscall to stderr.") var strace = false
    @Option(name: .customLong("dump-ir"), help: "Write every compiled region's IR, as lifted and as optimized, to this directory.")
    var dumpIR: String?
    @Flag(help: "Print translation and execution statistics to stderr at exit.") var stats = false
    @Option(name: .customLong("stats-json"), help: "Write the statistics as JSON to this file at exit.") var statsJSON: String?
    @Flag(name: .customLong("no-tiering"), help: "Compile every region at the chosen level at once, instead of cheaply first and again when hot.")
    var noTiering = false
    @Option(name: .customLong("tier-threshold"), help: "Executions after which a region is recompiled optimized (default: Configs/tiers.conf).")
    var tierThreshold: UInt64?
    @Flag(name: .customLong("sync-tier-up"), help: "Recompile hot regions on the guest's thread (deterministic; for testing).")
    var synchronousTierUp = false
    @Argument(help: "The RISC-V program.") var program: String
    @Argument(parsing: .captureForPassthrough, help: "Arguments for the program.") var arguments: [String] = []

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try readFile(program)
        } catch {
            fail("\(program): \(error)")
        }
        let elf: ELFFile
        do { elf = try ELFFile(bytes: bytes) } catch { fail("\(program): \(error)") }

        var options = EngineOptions()
        options.optimizationLevel = level.rawValue
        options.pipeline = pipeline.map { PassPipeline(text: $0) }
        options.strace = strace
        options.tiering = !noTiering
        options.synchronousTierUp = synchronousTierUp
        do { options.tiers = try TierConfiguration.load(executablePath: absolutePath(CommandLine.arguments[0])) } catch { fail("\(error)") }
        if let tierThreshold {
            guard tierThreshold > 0 else { fail("--tier-threshold must be positive") }
            options.tiers.hotThreshold = tierThreshold
        }
        if let dumpIR {
            do { try createDirectory(dumpIR) } catch { fail("--dump-ir \(dumpIR): \(error)") }
            options.dumpIRDirectory = dumpIR
        }
        let engine: Engine
        do {
            engine = try Engine(elf: elf, path: absolutePath(program), arguments: [program] + arguments,
                                environment: hostEnvironment(), options: options)
        } catch { fail("\(program): \(error)") }

        let ending = engine.run()
        if stats { printStatistics(engine.statistics) }
        if let statsJSON { writeStatisticsJSON(engine.statistics, to: statsJSON) }
        switch ending {
        // _exit: the tier-up thread may be inside LLVM, whose static destructors exit() would run.
        case .exited(let status): _exit(status & 0xff)
        case .killed(let signal, let reason): FaultHandler.die(signal: signal, message: reason)
        }
    }

    private func printStatistics(_ s: EngineStatistics) {
        func tier(_ name: String, _ t: TierStatistics) -> String {
            "\(name): \(t.regions) regions, \(t.guestInstructions) guest instructions, \(t.codeBytes) bytes of object code; "
                + "lift \(milliseconds(t.liftSeconds)), optimize \(milliseconds(t.optimizeSeconds)), codegen \(milliseconds(t.codegenSeconds))"
        }
        let translation = s.base.totalSeconds + s.optimized.totalSeconds
        let lines = [
            tier("tier 0 (first compile)", s.base),
            tier("tier 1 (hot, optimized)", s.optimized),
            "run time \(milliseconds(s.runSeconds)), of it translating on the guest thread about \(milliseconds(s.base.totalSeconds + (synchronousTierUp ? s.optimized.totalSeconds : 0))) (all translation \(milliseconds(translation)))",
            "map misses \(s.mapMisses), syscalls \(s.syscalls)",
        ]
        FileHandleError.write(lines.map { "pagelift: " + $0 }.joined(separator: "\n") + "\n")
    }

    private func writeStatisticsJSON(_ s: EngineStatistics, to path: String) {
        func tier(_ t: TierStatistics) -> String {
            "{\"regions\": \(t.regions), \"guest_instructions\": \(t.guestInstructions), \"code_bytes\": \(t.codeBytes), "
                + "\"lift_seconds\": \(t.liftSeconds), \"optimize_seconds\": \(t.optimizeSeconds), \"codegen_seconds\": \(t.codegenSeconds)}"
        }
        let json = "{\"tier0\": \(tier(s.base)), \"tier1\": \(tier(s.optimized)), \"run_seconds\": \(s.runSeconds), "
            + "\"map_misses\": \(s.mapMisses), \"syscalls\": \(s.syscalls)}\n"
        guard let file = fopen(path, "w") else { fail("--stats-json \(path): \(String(cString: strerror(errno)))") }
        fputs(json, file)
        fclose(file)
    }

    private func milliseconds(_ seconds: Double) -> String {
        String(Int((seconds * 1000).rounded())) + " ms"
    }
}

func fail(_ message: String) -> Never {
    FileHandleError.write("pagelift: \(message)\n")
    Glibc.exit(1)
}

enum FileHandleError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

struct HostError: Error, CustomStringConvertible {
    let description: String
}

func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw HostError(description: String(cString: strerror(errno))) }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw HostError(description: String(cString: strerror(errno))) }
    guard status.st_mode & S_IFMT == S_IFREG else { throw HostError(description: "not a regular file") }
    var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
    var done = 0
    while done < bytes.count {
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
        guard count > 0 else { throw HostError(description: count == 0 ? "file shrank while reading" : String(cString: strerror(errno))) }
        done += count
    }
    return bytes
}

func createDirectory(_ path: String) throws {
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw HostError(description: String(cString: strerror(errno))) }
}

func absolutePath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

func hostEnvironment() -> [String] {
    var result: [String] = []
    var cursor = environ
    while let entry = cursor.pointee {
        result.append(String(cString: entry))
        cursor += 1
    }
    return result
}
