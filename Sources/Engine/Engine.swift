#if canImport(Glibc)
import Glibc
#endif
import CLLVM
import ELF
import Guest
import Lifter
import RISCV

public struct EngineOptions: Sendable {
    public var optimizationLevel = 2
    public var pipeline: PassPipeline? = nil
    public var strace = false
    /// Where to write each compiled region's IR, as lifted and as optimized.
    public var dumpIRDirectory: String? = nil
    public init() {}
}

/// How the guest ended.
public enum GuestTermination: Equatable, Sendable {
    case exited(Int32)
    case killed(signal: Int32, reason: String)
}

public struct EngineStatistics: Sendable {
    public var regionsTranslated = 0
    public var guestInstructionsLifted = 0
    public var liftSeconds = 0.0
    public var optimizeSeconds = 0.0
    public var compileSeconds = 0.0
    public var mapMisses = 0
    public var syscalls = 0
}

/// Runs one guest program: resolves guest pcs to host code through the code map,
/// translating a page whenever a slot is empty, and handles what translated code hands back.
public final class Engine: @unchecked Sendable {
    public let memory: GuestMemory
    public let process: LinuxProcess
    public let cpu = CPUState()
    public let symbols: SymbolTable
    public let options: EngineOptions
    public private(set) var statistics = EngineStatistics()
    let jit: JIT
    let codeMap: CodeMap
    let pipeline: PassPipeline
    /// Entries installed in the map, by page, so a change to the page can clear them.
    private var pageEntries: [UInt64: Set<UInt64>] = [:]

    public init(elf: ELFFile, path: String, arguments: [String], environment: [String], options: EngineOptions) throws {
        self.options = options
        memory = try GuestMemory()
        let program = try Loader.load(elf, path: path, arguments: arguments, environment: environment, into: memory)
        process = LinuxProcess(memory: memory, program: program)
        process.strace = options.strace
        symbols = SymbolTable(elf.symbols, bias: program.loadBias)
        codeMap = try CodeMap()
        jit = try JIT(optimizationLevel: options.optimizationLevel)
        pipeline = options.pipeline ?? PassPipeline(level: options.optimizationLevel)
        try jit.defineAbsolute([
            RuntimeSymbols.guestMemory: memory.baseAddress,
            RuntimeSymbols.codeMap: codeMap.baseAddress,
            RuntimeSymbols.resolve: unsafeBitCast(resolveHelper, to: UInt64.self),
            RuntimeSymbols.syscall: unsafeBitCast(syscallHelper, to: UInt64.self),
            RuntimeSymbols.readCounter: unsafeBitCast(readCounterHelper, to: UInt64.self),
        ])
        cpu.pc = program.entry
        cpu[x: 2] = program.stackPointer
        cpu.runtime = Unmanaged.passUnretained(self).toOpaque()
        memory.onInvalidate = { [unowned self] start, end in self.invalidate(start, end) }
    }

    /// Runs the guest until it exits or dies.
    public func run() -> GuestTermination {
        FaultHandler.install()
        FaultHandler.currentCPU = cpu.base
        defer { FaultHandler.currentCPU = nil }
        while true {
            cpu.stopReason = .none
            let pc = cpu.pc
            let code = unsafeBitCast(resolve(pc), to: PageFunction.self)
            code(cpu.base, pc)
            switch cpu.stopReason {
            case .none: continue
            case .exit: return .exited(Int32(truncatingIfNeeded: cpu.stopDetail))
            case .signal:
                let signal = Int32(cpu.stopDetail)
                return .killed(signal: signal, reason: "pagelift: guest terminated by \(FaultHandler.signalName(signal))")
            case .illegalInstruction:
                return .killed(signal: SIGILL, reason: "pagelift: guest \(FaultHandler.signalName(SIGILL)): \(describeInstruction(at: cpu.pc, bits: UInt32(truncatingIfNeeded: cpu.stopDetail)))")
            case .breakpoint:
                return .killed(signal: SIGTRAP, reason: "pagelift: guest \(FaultHandler.signalName(SIGTRAP)): ebreak at pc 0x\(String(cpu.pc, radix: 16)) (\(symbols.describe(cpu.pc)))")
            case .fetchFault:
                return .killed(signal: SIGSEGV, reason: "pagelift: guest \(FaultHandler.signalName(SIGSEGV)): instruction fetch from unmapped or non-executable address 0x\(String(cpu.stopDetail, radix: 16))")
            }
        }
    }

    /// "illegal instruction at pc 0x10570 (main+0x1e): bytes ff ff ff ff", as they lie in memory.
    private func describeInstruction(at pc: UInt64, bits: UInt32) -> String {
        let length = instructionLength(firstParcel: UInt16(truncatingIfNeeded: bits)) == 2 ? 2 : 4
        let available = (0..<UInt64(length)).prefix { memory.isMapped(pc + $0, 1) }
        let bytes = available.map { hexDigits(UInt64(memory.load(pc + $0, as: UInt8.self)), width: 2) }
        var text = "illegal instruction at pc 0x\(String(pc, radix: 16)) (\(symbols.describe(pc))): bytes \(bytes.joined(separator: " "))"
        if let instruction = Decoder.decode(bits) { text += " (\(instruction.text(at: pc)))" }
        return text
    }

    /// The host code for `pc`, translating its page if the slot is empty. On a guest
    /// fault, records the stop in the CPU state and returns code that just returns.
    func resolve(_ pc: UInt64) -> UInt64 {
        if pc < GuestLimits.addressSpaceSize {
            let slot = codeMap[pc]
            if slot != 0 { return slot }
        }
        statistics.mapMisses += 1
        guard pc < GuestLimits.addressSpaceSize, pc & 1 == 0, memory.isMapped(pc, 2, needs: PROT_EXEC) else {
            cpu.pc = pc
            cpu.stop(.fetchFault, detail: pc)
            return unsafeBitCast(stopHelper, to: UInt64.self)
        }
        do {
            try translateRegion(at: pc)
        } catch {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error translating page 0x\(String(pc & ~0xfff, radix: 16)): \(error)")
        }
        return codeMap[pc]
    }

    /// Translates the code reachable from `pc` within its page into one module and
    /// installs every entry it contains. Code of the page translated earlier keeps its
    /// slots, so each miss costs only the code it newly reaches.
    private func translateRegion(at pc: UInt64) throws {
        let page = pc & ~(DiscoveredPage.pageSize - 1)
        var clock = Stopwatch()
        let discovered = DiscoveredPage.discover(page: page, entries: [pc]) { address in
            guard self.memory.isMapped(address, 2, needs: PROT_EXEC) else { return nil }
            return self.memory.load(address, as: UInt16.self)
        }
        let name = RuntimeSymbols.regionFunction(pc)
        let module = IRModule(name: name)
        let symbols = self.symbols
        PageLifter(describe: { symbols.describe($0) }).lift(discovered, into: module, functionName: name)
        statistics.liftSeconds += clock.lap()
        dump(module, name: name, stage: "lifted")
        try pipeline.run(on: module, targetMachine: jit.targetMachine)
        statistics.optimizeSeconds += clock.lap()
        dump(module, name: name, stage: "optimized")
        try jit.add(module)
        let address = try jit.lookup(name)
        statistics.compileSeconds += clock.lap()

        for entry in discovered.entries { codeMap[entry] = address }
        pageEntries[page, default: []].formUnion(discovered.entries)
        statistics.regionsTranslated += 1
        statistics.guestInstructionsLifted += discovered.instructions.count
    }

    private func dump(_ module: IRModule, name: String, stage: String) {
        guard let directory = options.dumpIRDirectory else { return }
        let path = "\(directory)/\(name).\(stage).ll"
        guard let file = fopen(path, "w") else {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: cannot write \(path): \(String(cString: strerror(errno)))")
        }
        fputs(module.text, file)
        fclose(file)
    }

    /// Guest memory at [start, end) changed: its translated code must not run again.
    private func invalidate(_ start: UInt64, _ end: UInt64) {
        for (page, entries) in pageEntries where page + DiscoveredPage.pageSize > start && page < end {
            for entry in entries { codeMap[entry] = 0 }
            pageEntries[page] = nil
        }
    }

    func syscall() -> Int32 {
        statistics.syscalls += 1
        switch process.handle(cpu) {
        case .resume: return 0
        case .exit(let status):
            cpu.stop(.exit, detail: UInt64(UInt32(bitPattern: status)))
            return 1
        case .signal(let signal):
            cpu.stop(.signal, detail: UInt64(signal))
            return 1
        }
    }

    func readCounter(_ csr: Int32) -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

typealias PageFunction = @convention(c) (UnsafeMutableRawPointer, UInt64) -> Void

private func engine(_ cpu: UnsafeMutableRawPointer) -> Engine {
    Unmanaged<Engine>.fromOpaque(cpu.load(fromByteOffset: CPULayout.runtime, as: UnsafeMutableRawPointer.self)).takeUnretainedValue()
}

private let resolveHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64 = { cpu, pc in engine(cpu).resolve(pc) }
private let syscallHelper: @convention(c) (UnsafeMutableRawPointer) -> Int32 = { cpu in engine(cpu).syscall() }
private let readCounterHelper: @convention(c) (UnsafeMutableRawPointer, Int32) -> UInt64 = { cpu, csr in engine(cpu).readCounter(csr) }
/// Where resolve sends translated code that must return to the dispatcher.
private let stopHelper: PageFunction = { _, _ in }

struct Stopwatch {
    private var last = Stopwatch.now()
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
    mutating func lap() -> Double {
        let current = Self.now()
        defer { last = current }
        return current - last
    }
}

