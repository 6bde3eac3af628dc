#if canImport(Glibc)
import Glibc
#endif
import CHostFloat
import Guest
import Lifter
import RISCV

/// How a guest thread's run ended: the thread alone (`exit`), or the whole process.
enum ThreadEnding {
    case thread(status: Int32)
    case process(GuestTermination)
}

/// One guest thread on one host thread: its CPU state (registers and the kernel's per-thread
/// state) and the dispatcher loop that runs it, resolving pcs through the process's code map
/// and handling what translated code hands back. The translator behind it is the process's.
final class GuestThread: @unchecked Sendable {
    let cpu: CPUState
    unowned let engine: Engine
    /// The code generators of what this thread compiles itself (LLVM's target machines are
    /// not to be shared by threads): its misses, and hot regions with synchronous tier-up.
    var generators: CodeGenerators
    /// The state where it was last exact, which a fault in translated code is replayed from.
    let checkpoint: Checkpoint
    /// The replay under way on this thread, which replayed code's accesses go to.
    var replay: FaultReplay?
    /// The ring of the thread's store log (`StoreLogLayout`), mapped when code first logs.
    private(set) var storeLog: UnsafeMutableRawPointer?

    init(cpu: CPUState, engine: Engine, generators: CodeGenerators) {
        self.cpu = cpu
        self.engine = engine
        self.generators = generators
        checkpoint = Checkpoint(memory: engine.memory)
        cpu.runtime = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        if let storeLog { munmap(storeLog, Self.storeLogBytes) }
    }

    private static let storeLogBytes = Int(StoreLogLayout.capacity) * StoreLogLayout.entryBytes

    /// Maps the store log's ring for code that logs stores, once. Before the thread runs, or
    /// under the engine's lock (see `Engine.startStoreLog`).
    func prepareStoreLog() {
        guard storeLog == nil else { return }
        let mapped = mmap(nil, Self.storeLogBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: cannot map a store log: \(String(cString: strerror(errno)))")
        }
        storeLog = mapped
        cpu.base.storeBytes(of: mapped, toByteOffset: CPULayout.storeLog, as: UnsafeMutableRawPointer.self)
        // The first lap's entries have the lap bit set; the zeroed slots past them do not.
        cpu.base.storeBytes(of: StoreLogLayout.capacity, toByteOffset: CPULayout.storeLogIndex, as: UInt64.self)
    }

    /// Runs the guest thread until it or its process ends.
    func run() -> ThreadEnding {
        if engine.lock.withLock({ engine.liftsStoreLog }) { prepareStoreLog() }
        FaultHandler.setCurrentCPU(cpu)
        defer { FaultHandler.setCurrentCPU(nil) }
        pagelift_set_host_float_flags(0)
        let process = engine.process
        while true {
            if cpu.signalPendingFlag.pointee != 0 {
                engine.waitWhileOtherThreadsStopped()
                switch process.deliverAsynchronousSignal(cpu) {
                case .resume, .redirect: break
                case .signal(let signal): return .process(Self.killed(by: signal))
                case .exit(let status): return .process(.exited(status))
                case .threadExit(let status): return .thread(status: status)
                }
            }
            cpu.stopReason = .none
            let pc = cpu.pc
            // Read before resolving: code found after it was set logs its stores.
            let logging = engine.storeLogActive
            let code = GuestFloatFlags.preserved { engine.resolve(pc, on: self) }
            checkpoint.storeLogComplete = logging
            checkpoint.save(cpu, hostFloatFlags: pagelift_host_float_flags())
            engine.enterGuestCode(self)
            let returned = engine.enter(cpu, pc, code)
            engine.leaveGuestCode(self)
            guard returned else {
                if let ending = recoverFault() { return ending }
                continue
            }
            switch cpu.stopReason {
            case .none: continue
            case .exit: return .process(.exited(Int32(truncatingIfNeeded: cpu.stopDetail)))
            case .threadExit: return .thread(status: Int32(truncatingIfNeeded: cpu.stopDetail))
            case .signal: return .process(Self.killed(by: Int32(cpu.stopDetail)))
            // Stops are exact: the guest's handler gets the fault, else it ends the process.
            case .illegalInstruction:
                if process.deliverFault(cpu, signal: SIGILL, code: FaultCode.illegalOpcode, address: cpu.pc) { continue }
                return .process(.killed(signal: SIGILL, reason: "pagelift: guest \(FaultHandler.signalName(SIGILL)): \(describeInstruction(at: cpu.pc, bits: UInt32(truncatingIfNeeded: cpu.stopDetail)))"))
            case .breakpoint:
                if process.deliverFault(cpu, signal: SIGTRAP, code: FaultCode.breakpoint, address: cpu.pc) { continue }
                return .process(.killed(signal: SIGTRAP, reason: "pagelift: guest \(FaultHandler.signalName(SIGTRAP)): ebreak at pc 0x\(String(cpu.pc, radix: 16)) (\(engine.symbols.describe(cpu.pc)))"))
            case .fetchFault:
                let address = cpu.stopDetail
                if process.deliverFault(cpu, signal: SIGSEGV, code: FaultCode.segmentation(at: address, in: engine.memory), address: address) { continue }
                return .process(.killed(signal: SIGSEGV, reason: "pagelift: guest \(FaultHandler.signalName(SIGSEGV)): instruction fetch from unmapped or non-executable address 0x\(String(address, radix: 16))"))
            case .unreplayable:
                return .process(.killed(signal: SIGABRT, reason: "pagelift: internal error: code lifted for fault replay ran outside a replay"))
            }
        }
    }

    /// As the kernel (and qemu) do, only a signal that would dump core is said.
    private static func killed(by signal: Int32) -> GuestTermination {
        .killed(signal: signal, reason: FaultHandler.dumpsCore(signal) ? "pagelift: guest terminated by \(FaultHandler.signalName(signal))" : "")
    }

    /// "illegal instruction at pc 0x10570 (main+0x1e): bytes ff ff ff ff", as they lie in memory.
    private func describeInstruction(at pc: UInt64, bits: UInt32) -> String {
        let memory = engine.memory
        let length = instructionLength(firstParcel: UInt16(truncatingIfNeeded: bits)) == 2 ? 2 : 4
        let available = (0..<UInt64(length)).prefix { memory.isMapped(pc + $0, 1) }
        let bytes = available.map { hexDigits(UInt64(memory.load(pc + $0, as: UInt8.self)), width: 2) }
        var text = "illegal instruction at pc 0x\(String(pc, radix: 16)) (\(engine.symbols.describe(pc))): bytes \(bytes.joined(separator: " "))"
        if let instruction = Decoder.decode(bits) { text += " (\(instruction.text(at: pc)))" }
        return text
    }

    /// A syscall from translated code: the process handles it; what it decided becomes a stop.
    func syscall() -> Int32 {
        engine.countSyscall()
        switch engine.process.handle(cpu) {
        case .resume: return 0
        case .exit(let status):
            cpu.stop(.exit, detail: UInt64(UInt32(bitPattern: status)))
            return 1
        case .threadExit(let status):
            cpu.stop(.threadExit, detail: UInt64(UInt32(bitPattern: status)))
            return 1
        case .signal(let signal):
            cpu.stop(.signal, detail: UInt64(signal))
            return 1
        case .redirect:
            // Back to the dispatcher, which goes on at cpu.pc with every register from the CPU state.
            return 1
        }
    }
}

/// The code generators a thread compiles with: the first tier's, and the optimizing one,
/// made when first needed.
struct CodeGenerators {
    let optimizationLevel: Int
    let tiering: Bool
    private var base: CodeGenerator?
    private var optimized: CodeGenerator?

    init(options: EngineOptions, base: CodeGenerator? = nil) {
        optimizationLevel = options.optimizationLevel
        tiering = options.tieringActive
        self.base = base
    }

    /// The first compilation's: cheap with tiering, else at the run's level.
    mutating func firstTier() throws -> CodeGenerator {
        if let base { return base }
        let made = try CodeGenerator(optimizationLevel: tiering ? 0 : optimizationLevel)
        base = made
        return made
    }

    mutating func optimizing() throws -> CodeGenerator {
        if let optimized { return optimized }
        let made = try CodeGenerator(optimizationLevel: optimizationLevel)
        optimized = made
        return made
    }
}
