#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall
import ELF

/// What the dispatcher must do after a syscall.
public enum SyscallOutcome: Equatable, Sendable {
    case resume
    case exit(Int32)       // the whole process (exit_group)
    case threadExit(Int32) // only the calling thread (exit)
    case signal(Int32)     // the guest raised a signal whose default action ends it
    case redirect          // the guest goes on at `cpu.pc` with registers changed (a signal handler, rt_sigreturn)
}

/// What the runtime around the syscalls must do when the process forks or replaces itself:
/// the translator's background threads must hold no lock across `fork`, and `execve` of a
/// RISC-V program starts this translator again with the same options.
public struct ProcessHooks: Sendable {
    /// Before `fork`: background threads finish what they are doing and wait.
    public var prepareFork: @Sendable () -> Void = {}
    /// After `fork`, in the parent (`false`) or the child (`true`).
    public var afterFork: @Sendable (_ inChild: Bool) -> Void = { _ in }
    /// Runs a new guest thread from `cpu` on a new host thread. `started` runs on that thread
    /// with its tid before any guest code; returns the tid once it has, or -errno.
    public var startThread: @Sendable (_ cpu: CPUState, _ started: @escaping @Sendable (Int32) -> Void) -> Int32 = { _, _ in -EAGAIN }
    /// The translator's own executable and the options a RISC-V child is started with.
    public var translatorPath: String = ""
    public var translatorOptions: [String] = []
    /// The guest installed a handler for SIGSEGV or SIGBUS: it will see the state of its faults.
    public var faultHandlerInstalled: @Sendable () -> Void = {}
    public init() {}
}

/// Linux user-mode emulation for one guest process: the RISC-V (asm-generic) syscall ABI
/// mapped onto the host's. Arguments in a0..a5, number in a7, result in a0. The handlers live
/// in one file per family (`FileSyscalls`, `MemorySyscalls`, ...); most are the host's own call
/// with guest pointers turned into host ones (`Argument`), since guest memory is host memory.
public final class LinuxProcess: @unchecked Sendable {
    public let memory: GuestMemory
    public let paths: GuestPaths
    public let images: GuestImages
    public var executablePath: String { paths.executable }
    public var strace = false
    /// Unsupported syscalls are said on stderr once per number unless this is set.
    public var quietUnsupported = false
    public var hooks = ProcessHooks()
    public internal(set) var programBreak: UInt64
    let initialBreak: UInt64
    /// The lowest address of the stack's reservation: mmap places nothing at or above it.
    let stackLimit: UInt64
    /// What the guest's `/proc/self/auxv` and `/proc/self/cmdline` show.
    let auxiliaryVector: [UInt8]
    let commandLine: [String]
    /// Guest sigaction structs by signal number: one table for all the process's threads.
    var signalActions: [Int: (handler: UInt64, flags: UInt64, mask: UInt64)] = [:]
    /// The thread state of the program's first thread, which inherits the translator's mask.
    public let initialThread = ThreadState()
    private var reportedUnsupported = Set<Int>()
    /// Guards what the process's threads share in here: the actions and the unsupported calls said.
    let lock = Lock()
    /// Held by the calls that change the address space (the kernel's mmap lock): choosing a free
    /// range and mapping it, or moving the break, must not interleave with another thread's.
    let addressSpaceLock = Lock()
    static let addressSpaceCalls: Set<Int> = [SyscallNumber.brk, .mmap, .munmap, .mprotect, .mremap, .shmat, .shmdt]
        .reduce(into: []) { $0.insert($1.rawValue) }

    public init(memory: GuestMemory, program: LoadedProgram, paths: GuestPaths, images: GuestImages) {
        self.memory = memory
        self.paths = paths
        self.images = images
        self.programBreak = program.programBreak
        self.initialBreak = program.programBreak
        self.stackLimit = program.stackLimit
        self.auxiliaryVector = program.auxiliaryVector
        self.commandLine = program.arguments
        inheritSignalState()
    }

    /// A signal ignored when the translator started was ignored when the guest's program
    /// started (dispositions to ignore survive execve), and blocked signals were blocked.
    private func inheritSignalState() {
        for signal in 1..<32 where !Self.translatorSignals.contains(Int32(signal)) {
            if FaultHandler.hostIgnores(Int32(signal)) { signalActions[signal] = (1, 0, 0) }
        }
        var blocked = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &blocked)
        for signal in 1..<65 where sigismember(&blocked, Int32(signal)) == 1 { initialThread.signalMask |= 1 << UInt64(signal - 1) }
    }

    struct Call: Sendable {
        let cpu: CPUState
        var thread: ThreadState { cpu.thread }
        let number: Int
        var arguments: [UInt64]
        subscript(_ index: Int) -> UInt64 { arguments[index] }
        func int(_ index: Int) -> Int64 { Int64(bitPattern: arguments[index]) }
        func int32(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: arguments[index]) }
    }

    typealias Handler = @Sendable (LinuxProcess, Call) -> Int64

    struct Entry {
        let arity: Int
        let handler: Handler
    }

    /// How a passed-through argument reaches the host.
    enum Argument: Equatable {
        case value
        /// A guest address: the host address of the same byte (0 stays NULL). For fixed-size
        /// structures: the guard after the address space covers anything up to 64 KiB.
        case pointer
        /// A guest buffer whose length is argument `length`: it must lie inside the guest's
        /// address space, or the host kernel could reach past the guard into host memory.
        case buffer(length: Int)
        /// A guest path, looked up in the guest root first (`GuestPaths`).
        case path
        /// A guest string passed as it is (a symlink's target, a memfd's name).
        case string
    }

    struct Table {
        var entries: [Int: Entry] = [:]
        mutating func define(_ number: SyscallNumber, _ arity: Int, _ handler: @escaping Handler) {
            precondition(entries[number.rawValue] == nil, "\(number) defined twice")
            entries[number.rawValue] = Entry(arity: arity, handler: handler)
        }
        /// The host's call of number `host` with the same arguments, pointers and paths translated.
        mutating func passthrough(_ number: SyscallNumber, _ host: Int32, _ arguments: [Argument]) {
            define(number, arguments.count) { p, c in p.forward(host, arguments, c) }
        }
    }

    static let table: [Int: Entry] = {
        var table = Table()
        defineFileCalls(&table)
        definePollingCalls(&table)
        defineMemoryCalls(&table)
        defineProcessCalls(&table)
        defineSignalCalls(&table)
        defineSocketCalls(&table)
        defineTimeCalls(&table)
        defineSystemCalls(&table)
        defineInterprocessCalls(&table)
        return table.entries
    }()

    /// Calls the guest makes that are answered ENOSYS on purpose and without a word on stderr:
    /// their callers have a fallback that the kernels qemu emulates give them as well.
    static let declined: Set<Int> = [SyscallNumber.rseq, .io_uring_setup, .landlock_create_ruleset,
                                     .perf_event_open, .bpf, .userfaultfd, .seccomp].reduce(into: []) { $0.insert($1.rawValue) }

    public func handle(_ cpu: CPUState) -> SyscallOutcome {
        let number = Int(cpu[x: 17])
        let call = Call(cpu: cpu, number: number, arguments: (10...15).map { cpu[x: $0] })
        let thread = cpu.thread
        let callSite = cpu.pc
        thread.outcome = .resume
        // A signal that came while the guest ran is delivered before the call, which runs when
        // its handler returns: as the kernel delivers it before the guest's next instruction.
        if number != SyscallNumber.rt_sigreturn.rawValue, signalWaiting(thread),
           deliverPendingSignal(cpu, interrupted: nil, result: 0) {
            if thread.outcome == .resume { thread.outcome = .redirect }
            if strace { FaultHandler.writeError("\(getpid()) --- signal delivered before \(SyscallNumber.name(of: number)) ---\n") }
            return thread.outcome
        }
        var result: Int64
        let entry = Self.table[number]
        while true {
            if let entry {
                result = Self.addressSpaceCalls.contains(number) ? addressSpaceLock.withLock { entry.handler(self, call) } : entry.handler(self, call)
            } else {
                result = unsupported(call)
            }
            guard result == Self.signalBeforeCall, thread.outcome == .resume else { break }
            // A signal came before the call could block: the guest takes it first, as if it had
            // come before the ecall, which runs again when the handler returns.
            if deliverPendingSignal(cpu, interrupted: nil, result: 0) {
                if thread.outcome == .resume { thread.outcome = .redirect }
                return thread.outcome
            }
        }
        if strace { traceLine(call: call, result: result, known: entry != nil, callSite: callSite) }
        if thread.outcome == .resume {
            cpu[x: 10] = UInt64(bitPattern: result)
            cpu.pc &+= 4  // past the ecall, where a handler returns to
        }
        if thread.outcome == .resume || thread.outcome == .redirect, signalWaiting(thread),
           deliverPendingSignal(cpu, interrupted: thread.outcome == .resume ? call : nil, result: result), thread.outcome == .resume {
            thread.outcome = .redirect
        }
        return thread.outcome
    }

    /// Between syscalls (translated code saw `CPULayout.signalPending`): delivers a signal that
    /// waits for `cpu`'s thread, with the CPU at an instruction boundary. Returns what the
    /// dispatcher must do: `.resume` when nothing was delivered.
    public func deliverAsynchronousSignal(_ cpu: CPUState) -> SyscallOutcome {
        cpu.signalPendingFlag.pointee = 0
        let thread = cpu.thread
        thread.outcome = .resume
        guard signalWaiting(thread), deliverPendingSignal(cpu, interrupted: nil, result: 0) else { return .resume }
        return thread.outcome == .resume ? .redirect : thread.outcome
    }

    /// Whether a signal `thread` does not block waits: recorded from the host, or raised by the guest.
    func signalWaiting(_ thread: ThreadState) -> Bool {
        (pagelift_recorded_signals() | thread.pendingSignals.keys.reduce(0) { $0 | Self.bit($1) }) & ~thread.signalMask != 0
    }

    /// ENOSYS, said once per syscall number (`--quiet-unsupported` silences it): a program that
    /// silently gets an error it never expected can print wrong results and exit 0.
    func unsupported(_ call: Call, _ why: String = "") -> Int64 {
        if !quietUnsupported, !Self.declined.contains(call.number), lock.withLock({ reportedUnsupported.insert(call.number).inserted }) {
            FaultHandler.writeError("pagelift: unsupported syscall \(SyscallNumber.name(of: call.number)) (\(call.number))\(why.isEmpty ? "" : ", \(why)"), returned ENOSYS\n")
        }
        return -Int64(ENOSYS)
    }

    private func traceLine(call: Call, result: Int64, known: Bool, callSite: UInt64) {
        let arity = Self.table[call.number]?.arity ?? 6
        let arguments = call.arguments.prefix(arity).map { "0x" + String($0, radix: 16) }.joined(separator: ",")
        var line = "\(getpid()) \(SyscallNumber.name(of: call.number))(\(arguments))"
        switch call.thread.outcome {
        case .resume:
            line += result < 0 && result > -4096 ? " = -1 errno=\(-result) (\(String(cString: strerror(Int32(-result)))))" : " = \(result)"
        case .exit(let status): line += " = ? (exit \(status))"
        case .threadExit(let status): line += " = ? (thread exit \(status))"
        case .signal(let signal): line += " = ? (signal \(signal))"
        case .redirect: line += " = ? (continues at 0x\(String(call.cpu.pc, radix: 16)))"
        }
        if !known { line += " (unsupported: returned ENOSYS)" }
        // Which code made the call: the program's, the loader's or a library's, by its own symbols.
        line += " <\(images.describe(callSite))>"
        FaultHandler.writeError(line + "\n")
    }

    // MARK: The vocabulary of handlers

    /// A host pointer for a guest buffer, or nil (EFAULT) if any of it is outside mapped memory.
    func buffer(_ address: UInt64, _ length: UInt64, writable: Bool = false) -> UnsafeMutableRawPointer? {
        if length == 0 { return memory.host(address) }
        guard memory.isMapped(address, length, needs: writable ? PROT_WRITE : PROT_READ) else { return nil }
        return memory.host(address)
    }

    /// The host address of guest address `address` for the host kernel to use, 0 for 0, nil
    /// (EFAULT) outside the guest address space. Unmapped guest pages are PROT_NONE host
    /// pages, so the host kernel answers EFAULT for them itself.
    func hostAddress(_ address: UInt64) -> Int? {
        if address == 0 { return 0 }
        guard address < GuestLimits.addressSpaceSize else { return nil }
        return Int(bitPattern: UInt(bitPattern: memory.host(address)))
    }

    func string(_ address: UInt64) -> String? { memory.string(at: address) }

    /// A guest path argument, as the host must look it up (see `GuestPaths`).
    func path(_ address: UInt64) -> String? { string(address).map(paths.host) }

    /// A NUL-terminated array of guest string pointers (argv, envp).
    func stringArray(_ address: UInt64) -> [String]? {
        guard address != 0 else { return [] }
        var result: [String] = []
        var cursor = address
        while result.count < 1 << 20 {
            guard memory.isMapped(cursor, 8) else { return nil }
            let pointer = memory.load(cursor, as: UInt64.self)
            if pointer == 0 { return result }
            guard let text = memory.string(at: pointer, limit: 1 << 20) else { return nil }
            result.append(text)
            cursor += 8
        }
        return nil
    }

    /// -errno for a failed host call, the result otherwise.
    static func host(_ result: Int) -> Int64 { result < 0 ? -Int64(errno) : Int64(result) }
    static func host(_ result: Int32) -> Int64 { host(Int(result)) }

    static let efault = -Int64(EFAULT)
    static let einval = -Int64(EINVAL)

    /// The host's raw syscall for a guest's call: -1 and errno on failure, like the libc wrappers
    /// `host(_:)` expects; on a guest thread, `signalBeforeCall` when a signal came before it
    /// started (it could otherwise block with the signal waiting).
    static func hostSyscall(_ number: Int32, _ a0: Int = 0, _ a1: Int = 0, _ a2: Int = 0, _ a3: Int = 0, _ a4: Int = 0, _ a5: Int = 0) -> Int {
        pagelift_host_syscall_interruptible(Int(number), a0, a1, a2, a3, a4, a5)
    }

    /// The kernel's ERESTARTSYS, which never reaches the guest (see `hostSyscall`).
    static let signalBeforeCall = -Int64(512)

    /// The host syscall `number` with the guest's arguments, translated as `kinds` says.
    func forward(_ number: Int32, _ kinds: [Argument], _ c: Call) -> Int64 {
        var raw = [Int](repeating: 0, count: 6)
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { strings.forEach { free($0) } }
        for (index, kind) in kinds.enumerated() {
            let value = c[index]
            switch kind {
            case .value:
                raw[index] = Int(bitPattern: UInt(value))
            case .pointer:
                guard let address = hostAddress(value) else { return Self.efault }
                raw[index] = address
            case .buffer(let length):
                guard let address = hostAddress(value), value == 0 || memory.inBounds(value, c[length]) else { return Self.efault }
                raw[index] = address
            case .path, .string:
                guard value != 0 else { continue }
                guard let text = kind == .path ? path(value) : string(value) else { return Self.efault }
                let copy = strdup(text)!
                strings.append(copy)
                raw[index] = Int(bitPattern: copy)
            }
        }
        return Self.host(Self.hostSyscall(number, raw[0], raw[1], raw[2], raw[3], raw[4], raw[5]))
    }

    /// Host iovecs for `count` guest iovecs at `address`, or nil (EFAULT).
    func iovecs(_ address: UInt64, count: Int) -> [iovec]? {
        guard count >= 0, count <= 1024 else { return nil }
        guard count == 0 || buffer(address, UInt64(count * 16)) != nil else { return nil }
        var vectors: [iovec] = []
        for index in 0..<count {
            let base = memory.load(address + UInt64(index * 16), as: UInt64.self)
            let length = memory.load(address + UInt64(index * 16 + 8), as: UInt64.self)
            guard let pointer = hostAddress(base), memory.inBounds(base, length) else { return nil }
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(bitPattern: pointer), iov_len: Int(length)))
        }
        return vectors
    }
}
