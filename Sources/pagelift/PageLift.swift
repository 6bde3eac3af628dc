#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ELF
import Engine
import Guest
import Lifter

@main
struct PageLift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pagelift",
        abstract: "Run Linux RISC-V (RV64GC) programs on x86-64, translated page by page through LLVM.",
        version: PageLift.version,
        subcommands: [Run.self, Lift.self, Disasm.self, Compare.self, Binfmt.self],
        defaultSubcommand: Run.self)
}

extension PageLift {
    static let version = "pagelift 0.5 (RV64GC user mode, LLVM 19)"
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

/// -O0..-O3 and --pipeline, shared by the commands that compile.
struct Optimization: ParsableArguments {
    @Flag(exclusivity: .chooseLast) var level: OptimizationLevel = .o2
    @Option(name: .customLong("pipeline"), help: "A new-pass-manager pipeline string, or a name from Configs/pipelines.conf, instead of -O's.")
    var pipeline: String?

    /// The pipeline to use, validated: a bad one ends the program with LLVM's message and status 2.
    func validatedPipeline() -> PassPipeline? {
        guard let pipeline else { return nil }
        do {
            let resolved = try PassPipeline.named(pipeline, executablePath: absolutePath(CommandLine.arguments[0]))
            try resolved.validate()
            return resolved
        } catch {
            FileHandleError.write("pagelift: invalid --pipeline '\(pipeline)': \(error)\n")
            _exit(2)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a guest program, like qemu-riscv64 PROGRAM ARGS...")

    @OptionGroup var optimization: Optimization
    @Option(name: .customShort("L"), help: ArgumentHelp("The guest's root file system: its dynamic loader and libraries, and the files absolute paths name first (PAGELIFT_LD_PREFIX).", valueName: "root"))
    var sysroot: String?
    @Option(name: .customShort("E"), help: ArgumentHelp("Set VAR=VALUE in the guest's environment (PAGELIFT_SET_ENV, comma-separated).", valueName: "var=value"))
    var setEnvironment: [String] = []
    @Option(name: .customShort("U"), help: ArgumentHelp("Remove VAR from the guest's environment (PAGELIFT_UNSET_ENV, comma-separated).", valueName: "var"))
    var unsetEnvironment: [String] = []
    @Option(name: [.customLong("argv0"), .customShort("0")], help: "The guest's argv[0] (default: PROGRAM as given).") var argv0: String?
    @Option(name: .customLong("cpu", withSingleDash: true), help: "The guest CPU: rv64 (also any, max); 'help' lists them (PAGELIFT_CPU).")
    var cpu: String?
    @Flag(name: [.customLong("strace"), .customLong("strace", withSingleDash: true)], help: "Log every guest syscall to stderr (PAGELIFT_STRACE).")
    var strace = false
    @Flag(name: .customLong("quiet-unsupported"), help: "Do not say on stderr which unsupported syscalls the guest made (they still return ENOSYS).")
    var quietUnsupported = false
    @Option(name: .customLong("dump-ir"), help: "Write every compiled region's IR, as lifted and as optimized, and an index.tsv, to this directory.")
    var dumpIR: String?
    @Flag(name: .customLong("dump-asm"), help: "With --dump-ir, also write each region's host assembly.") var dumpAsm = false
    @Flag(name: .customLong("perf-map"), help: "Write /tmp/perf-PID.map naming translated code after guest symbols, for perf.") var perfMap = false
    @Flag(help: "Print translation and execution statistics to stderr at exit.") var stats = false
    @Option(name: .customLong("stats-json"), help: "Write the statistics as JSON to this file at exit.") var statsJSON: String?
    @Flag(name: .customLong("no-cache"), help: "Neither read nor write the on-disk cache of compiled code.") var noCache = false
    @Option(name: .customLong("cache-dir"), help: "Where compiled code is cached (default: $XDG_CACHE_HOME/pagelift).") var cacheDir: String?
    @Option(name: .customLong("cache-max-size"), help: ArgumentHelp("The most the code cache may hold, as 500M or 2G (PAGELIFT_CACHE_MAX_SIZE; default 2G).", valueName: "size"))
    var cacheMaxSize: String?
    @Flag(name: .customLong("no-tiering"), help: "Compile every region at the chosen level at once, instead of cheaply first and again when hot.")
    var noTiering = false
    @Option(name: .customLong("tier-threshold"), help: "Executions after which a region is recompiled optimized (default: Configs/tiers.conf).")
    var tierThreshold: UInt64?
    @Flag(name: .customLong("sync-tier-up"), help: "Recompile hot regions on the guest's thread (deterministic; for testing).")
    var synchronousTierUp = false
    @Flag(name: .customLong("exact-fp-flags"),
          help: "Keep floating-point exception flags exact even when the program seems never to read them (for code it generates at run time).")
    var exactFloatFlags = false
    @Option(name: .customLong("store-log"),
            help: ArgumentHelp("When translated code logs what its stores overwrite, so that a guest's SIGSEGV or SIGBUS handler gets the exact state of every fault: auto (from the first such handler), always, never.", valueName: "when"))
    var storeLog: StoreLogMode = .automatic
    @Argument(help: "The RISC-V program.") var program: String
    @Argument(parsing: .captureForPassthrough, help: "Arguments for the program.") var arguments: [String] = []

    func run() throws {
        let environment = HostProcess.environment
        if let cpu = cpu ?? environment["PAGELIFT_CPU"] {
            let known = ["rv64", "any", "max"]
            if cpu == "help" {
                var text = "Available CPUs:\n  rv64 (RV64GC with Zba, Zbb, Zbs; also called any and max)\n"
                text.withUTF8 { _ = Glibc.write(1, $0.baseAddress, $0.count) }
                _exit(0)
            }
            guard known.contains(cpu) else { fail("-cpu \(cpu): unknown CPU (known: \(known.joined(separator: ", ")))") }
        }
        let root = (sysroot ?? environment["PAGELIFT_LD_PREFIX"]).map(absolutePath)
        if let root {
            var status = stat()
            guard stat(root, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { fail("-L \(root): not a directory") }
        }
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(program)
        } catch {
            fail("\(program): \(error)")
        }
        let elf: ELFFile
        do { elf = try ELFFile(bytes: bytes) } catch { fail("\(program): \(error)") }

        var options = EngineOptions()
        options.sysroot = root
        options.quietUnsupported = quietUnsupported
        options.translatorPath = HostProcess.executablePath
        options.optimizationLevel = optimization.level.rawValue
        options.pipeline = optimization.validatedPipeline()
        options.strace = strace || environment["PAGELIFT_STRACE"] != nil
        options.tiering = !noTiering
        options.synchronousTierUp = synchronousTierUp
        options.exactFloatFlags = exactFloatFlags
        options.storeLog = storeLog
        do { options.tiers = try TierConfiguration.load(executablePath: absolutePath(CommandLine.arguments[0])) } catch { fail("\(error)") }
        if let base = options.tiers.basePipeline {
            do { try PassPipeline(text: base).validate() } catch { fail("tiers.conf base_pipeline '\(base)': \(error)", status: 2) }
        }
        if let tierThreshold {
            guard tierThreshold > 0 else { fail("--tier-threshold must be positive") }
            options.tiers.hotThreshold = tierThreshold
        }
        if let dumpIR {
            do { try createDirectory(dumpIR) } catch { fail("--dump-ir \(dumpIR): \(error)") }
            options.dumpIRDirectory = dumpIR
        }
        options.dumpAssembly = dumpAsm
        options.cacheDirectory = noCache ? nil : (cacheDir.map(absolutePath) ?? CodeCache.defaultDirectory)
        if let text = cacheMaxSize ?? environment["PAGELIFT_CACHE_MAX_SIZE"] {
            guard let size = byteCount(text) else { fail("--cache-max-size \(text): expected a size such as 500M or 2G") }
            options.cacheMaximumSize = size
        }
        options.perfMap = perfMap
        options.translatorOptions = translatorOptions(options)
        var guestEnvironment = hostEnvironment()
        let unset = unsetEnvironment + HostProcess.list("PAGELIFT_UNSET_ENV")
        guestEnvironment.removeAll { entry in unset.contains { entry.hasPrefix($0 + "=") } }
        for assignment in setEnvironment + HostProcess.list("PAGELIFT_SET_ENV") {
            guard let equals = assignment.firstIndex(of: "=") else { fail("-E \(assignment): expected VAR=VALUE") }
            let name = assignment[..<equals]
            guestEnvironment.removeAll { $0.hasPrefix(name + "=") }
            guestEnvironment.append(assignment)
        }
        let engine: Engine
        do {
            engine = try Engine(elf: elf, path: absolutePath(program), arguments: [argv0 ?? program] + arguments,
                                environment: guestEnvironment, options: options)
        } catch { fail("\(program): \(error)") }

        let (stats, statsJSON) = (self.stats, self.statsJSON)
        engine.run { [printStatistics] ending in
            engine.finish()
            if stats { printStatistics(engine.statistics) }
            if let statsJSON { writeStatisticsJSON(engine.statistics, to: statsJSON) }
            switch ending {
            // _exit: the tier-up thread may be inside LLVM, whose static destructors exit() would run;
            // other guest threads may still be running.
            case .exited(let status): _exit(status & 0xff)
            case .killed(let signal, let reason): FaultHandler.die(signal: signal, message: reason)
            }
        }
    }

    /// The options a RISC-V program the guest executes is started with: the same translation,
    /// root and cache; not the one-run outputs (statistics, dumps).
    private func translatorOptions(_ options: EngineOptions) -> [String] {
        var result = ["-O\(optimization.level.rawValue)"]
        if let pipeline = optimization.pipeline { result += ["--pipeline", pipeline] }
        if let root = options.sysroot { result += ["-L", root] }
        if options.strace { result.append("--strace") }
        if quietUnsupported { result.append("--quiet-unsupported") }
        if let directory = options.cacheDirectory {
            result += ["--cache-dir", directory, "--cache-max-size", String(options.cacheMaximumSize)]
        } else {
            result.append("--no-cache")
        }
        if noTiering { result.append("--no-tiering") }
        if let tierThreshold { result += ["--tier-threshold", String(tierThreshold)] }
        if exactFloatFlags { result.append("--exact-fp-flags") }
        if storeLog != .automatic { result += ["--store-log", storeLog.rawValue] }
        if perfMap { result.append("--perf-map") }
        return result
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
            "of them compiled ahead of the guest: \(s.speculated.regions) regions (\(s.speculatedRegionsEntered) of them entered), \(s.speculated.guestInstructions) guest instructions, \(milliseconds(s.speculated.totalSeconds)); the guest waited \(s.speculationWaits) times, \(milliseconds(s.speculationWaitSeconds))",
            "run time \(milliseconds(s.runSeconds)), of it translating on the guest thread about \(milliseconds(s.base.totalSeconds - s.speculated.totalSeconds + (synchronousTierUp ? s.optimized.totalSeconds : 0))) (all translation \(milliseconds(translation)))",
            "first-tier code counted \(s.firstTierExecutions) entries and loop iterations",
            "map misses \(s.mapMisses), syscalls \(s.syscalls), code cache: \(s.cacheHits) hits (linked in \(milliseconds(s.cacheLoadSeconds))), \(s.cacheStores) stores",
            s.floatFlagsExact ? "floating point: exact exception flags" : "floating point: the program never reads its exception flags, so they are not kept",
        ]
        FileHandleError.write(lines.map { "pagelift: " + $0 }.joined(separator: "\n") + "\n")
    }

    private func writeStatisticsJSON(_ s: EngineStatistics, to path: String) {
        func tier(_ t: TierStatistics) -> String {
            "{\"regions\": \(t.regions), \"guest_instructions\": \(t.guestInstructions), \"code_bytes\": \(t.codeBytes), "
                + "\"lift_seconds\": \(t.liftSeconds), \"optimize_seconds\": \(t.optimizeSeconds), \"codegen_seconds\": \(t.codegenSeconds)}"
        }
        let json = "{\"tier0\": \(tier(s.base)), \"tier0_speculated\": \(tier(s.speculated)), \"speculated_regions_entered\": \(s.speculatedRegionsEntered), "
            + "\"tier0_executions\": \(s.firstTierExecutions), "
            + "\"tier1\": \(tier(s.optimized)), \"run_seconds\": \(s.runSeconds), "
            + "\"map_misses\": \(s.mapMisses), \"syscalls\": \(s.syscalls), \"cache_hits\": \(s.cacheHits), \"cache_load_seconds\": \(s.cacheLoadSeconds), \"cache_stores\": \(s.cacheStores), "
            + "\"float_flags_exact\": \(s.floatFlagsExact)}\n"
        guard let file = fopen(path, "w") else { fail("--stats-json \(path): \(String(cString: strerror(errno)))") }
        fputs(json, file)
        fclose(file)
    }

    private func milliseconds(_ seconds: Double) -> String {
        String(Int((seconds * 1000).rounded())) + " ms"
    }
}

struct Lift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the LLVM IR (and host assembly) of the regions holding a guest function, without running it.")

    @OptionGroup var optimization: Optimization
    @Option(help: "The function, by ELF symbol.") var symbol: String?
    @Option(help: "The function, by address (0x... or decimal).") var addr: String?
    @Flag(name: .customLong("before-opt"), help: "Print the IR as lifted, before optimization.") var beforeOptimization = false
    @Flag(help: "Also print the x86-64 assembly LLVM generates.") var asm = false
    @Option(name: .customShort("L"), help: ArgumentHelp("The guest's root file system, for a dynamic program's loader.", valueName: "root"))
    var sysroot: String?
    @Flag(name: .customLong("tier-up"),
          help: "Translate as tier-up does for hot code: dynamic-rounding FP operations for round-to-nearest-even only.")
    var tierUp = false
    @Argument(help: "The RISC-V program.") var program: String

    func validate() throws {
        guard (symbol == nil) != (addr == nil) else { throw ValidationError("give exactly one of --symbol and --addr") }
    }

    func run() throws {
        let elf: ELFFile
        do { elf = try ELFFile(bytes: try readWholeFile(program)) } catch { fail("\(program): \(error)") }
        let symbols = SymbolTable(elf.symbols, bias: elf.kind == .sharedObject ? Loader.pieBias : 0)
        let start: UInt64, end: UInt64
        if let symbol {
            guard let found = symbols.address(of: symbol) else { fail("\(program): no symbol named '\(symbol)'") }
            start = found.address
            end = found.address + max(found.size, 2)
        } else {
            let text = addr!.lowercased()
            guard let value = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text) else {
                fail("--addr \(addr!): not an address")
            }
            start = value
            end = symbols.symbol(containing: value).map { $0.address + max($0.size, 2) } ?? value + 4096
        }
        let pipeline = optimization.validatedPipeline() ?? PassPipeline(level: optimization.level.rawValue)
        do {
            try LLVMOptions.apply(try TierConfiguration.load(executablePath: absolutePath(CommandLine.arguments[0])).llvmOptions)
            let root = (sysroot ?? HostProcess.environment["PAGELIFT_LD_PREFIX"]).map(absolutePath)
            let lifted = try FunctionLifting(elf: elf, path: absolutePath(program), sysroot: root, start: start, end: end, asOptimizedTier: tierUp)
            if let problem = lifted.module.verify() { fail("internal error: lifted IR does not verify: \(problem)") }
            let generator = try CodeGenerator(optimizationLevel: optimization.level.rawValue)
            if !beforeOptimization { try pipeline.run(on: lifted.module, targetMachine: generator.targetMachine) }
            let stage = beforeOptimization ? "as lifted" : "after \(pipeline.text)"
            print("; pagelift lift \(program): \(lifted.regions.count) region(s) of \(symbols.describe(start)), \(stage)")
            print(AnnotatedIR.render(lifted.module.text))
            if asm {
                print("; host assembly")
                print(try generator.assembly(for: lifted.module))
            }
        } catch {
            fail("\(program): \(error)")
        }
    }
}

func fail(_ message: String, status: Int32 = 1) -> Never {
    FileHandleError.write("pagelift: \(message)\n")
    Glibc.exit(status)
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

func createDirectory(_ path: String) throws {
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw HostError(description: String(cString: strerror(errno))) }
}

/// A size with an optional K, M or G suffix (powers of 1024).
func byteCount(_ text: String) -> UInt64? {
    let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    if let last = text.uppercased().last, let unit = units[last] { return UInt64(text.dropLast()).map { $0 * unit } }
    return UInt64(text)
}

/// `path` resolved (links followed) if it exists, else made absolute against the current directory.
func absolutePath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return String(cString: buffer) + "/" + path
    }
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

/// The host process: its environment and its own executable.
enum HostProcess {
    static var environment: [String: String] {
        var result: [String: String] = [:]
        for entry in hostEnvironment() {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    /// This translator's executable, which a guest's execve of a RISC-V program starts again.
    static let executablePath = linkTarget("/proc/self/exe") ?? CommandLine.arguments[0]

    /// A comma-separated list in environment variable `name` (PAGELIFT_SET_ENV, PAGELIFT_UNSET_ENV).
    static func list(_ name: String) -> [String] {
        environment[name].map { $0.split(separator: ",").map(String.init) } ?? []
    }
}

/// Prints (or installs) the binfmt_misc registration that has the kernel run RISC-V programs
/// through pagelift, as qemu-binfmt-conf.sh does for qemu-riscv64.
struct Binfmt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the binfmt_misc line that runs riscv64 ELF programs through pagelift; --install registers it.")

    @Flag(help: "Write the line to /proc/sys/fs/binfmt_misc/register (needs root and binfmt_misc mounted).") var install = false
    @Option(help: "The translator the kernel runs (default: this pagelift).") var translator: String?

    /// ELF64, little-endian, version 1, executable or shared object (the mask's 0xfe), machine 243.
    static let magic = "\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xf3\\x00"
    static let mask = "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff"

    static func line(translator: String) -> String {
        // F: the kernel opens the translator when the line is registered, so it works in containers and chroots too.
        ":pagelift-riscv64:M::\(magic):\(mask):\(translator):F"
    }

    func run() throws {
        let text = Self.line(translator: translator.map(absolutePath) ?? HostProcess.executablePath)
        guard install else { print(text); return }
        let register = "/proc/sys/fs/binfmt_misc/register"
        guard let file = fopen(register, "w") else { fail("cannot open \(register): \(String(cString: strerror(errno))) (is binfmt_misc mounted, and are you root?)") }
        let written = fputs(text, file)
        guard written >= 0, fclose(file) == 0 else { fail("registering with \(register) failed: \(String(cString: strerror(errno)))") }
        print("registered: \(text)")
    }
}

extension StoreLogMode: ExpressibleByArgument {}
