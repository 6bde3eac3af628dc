#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// Host faults inside the guest region are guest faults: report them the way the
/// kernel would (the guest dies by the signal, status 128+N) instead of crashing.
/// The region and the running CPU are the only process-wide state a signal
/// handler can reach, so they live here.
public enum FaultHandler {
    /// The reservation (guards included) and the host address of guest address 0.
    nonisolated(unsafe) public static var guestRegion: (start: UInt, size: UInt, base: UInt) = (0, 0, 0)
    /// Names guest code for the report (`printf+0x1c`, `libc.so.6+0x5a2c0`).
    nonisolated(unsafe) public static var describe: (@Sendable (UInt64) -> String)?

    /// Faults in translated code leave it for the runtime to recover (see `pagelift_enter_guarded`);
    /// any other host fault is reported here.
    public static func install() {
        pagelift_install_fault_handler(guestRegion.start, guestRegion.size, handleHostFault)
        installAlternateStack()
    }

    /// Room to report a fault even if the host stack is what overflowed: once per host thread
    /// that runs guest code.
    public static func installAlternateStack() {
        let size = 1 << 16
        var stack = stack_t(ss_sp: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16), ss_flags: 0, ss_size: size)
        sigaltstack(&stack, nil)
    }

    /// The CPU state of the guest thread the calling host thread runs, which a fault report names.
    public static func setCurrentCPU(_ cpu: CPUState?) {
        pagelift_set_current_cpu(cpu?.base)
        pagelift_set_signal_flag(cpu?.signalPendingFlag)
    }

    /// Terminates the process by `signal` after printing `message`, as qemu-riscv64 does
    /// for an uncaught guest signal (without writing a core file).
    public static func die(signal: Int32, message: String) -> Never {
        if !message.isEmpty { writeError(message + "\n") }
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &noCore)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_DFL
        sigaction(signal, &action, nil)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, signal)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        raise(signal)
        _exit(128 + signal)
    }

    public static func writeError(_ text: String) {
        var text = text
        text.withUTF8 { buffer in _ = Glibc.write(2, buffer.baseAddress, buffer.count) }
    }

    public enum HostDisposition { case standard, ignore, recordForGuest }

    /// The host's disposition of a signal meant for the guest. Recording it (for the guest's
    /// handler) is without SA_RESTART: a blocking call returns EINTR, and the guest's flags decide.
    public static func setHostDisposition(_ signal: Int32, _ disposition: HostDisposition) {
        let code: Int32 = switch disposition { case .standard: 0; case .ignore: 1; case .recordForGuest: 2 }
        _ = pagelift_set_host_disposition(signal, code)
    }

    /// Whether the host's disposition of `signal` is to ignore it.
    public static func hostIgnores(_ signal: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signal, nil, &current) == 0, let handler = current.__sigaction_handler.sa_handler else { return false }
        return unsafeBitCast(handler, to: Int.self) == 1  // SIG_IGN
    }

    /// Whether the signal's default action dumps core (rather than only terminating).
    public static func dumpsCore(_ signal: Int32) -> Bool {
        [SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS].contains(signal)
    }

    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: return "SIGSEGV (Segmentation fault)"
        case SIGBUS: return "SIGBUS (Bus error)"
        case SIGILL: return "SIGILL (Illegal instruction)"
        case SIGTRAP: return "SIGTRAP (Trace/breakpoint trap)"
        case SIGABRT: return "SIGABRT (Aborted)"
        case SIGFPE: return "SIGFPE (Floating point exception)"
        default: return "signal \(signal)"
        }
    }
}

private func handleHostFault(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
    let region = FaultHandler.guestRegion
    if address >= region.start && address - region.start < region.size {
        // In a guard: a register near either end of the address space plus an offset past it.
        let guestAddress = UInt64(address &- region.base)
        var location = ""
        if let cpu = pagelift_current_cpu() {
            let pc = cpu.load(fromByteOffset: CPULayout.pc, as: UInt64.self)
            location = " in code entered at pc 0x\(String(pc, radix: 16))" + (FaultHandler.describe.map { " (\($0(pc)))" } ?? "")
        }
        FaultHandler.die(signal: signal, message: "pagelift: guest \(FaultHandler.signalName(signal)): access to unmapped guest address 0x\(String(guestAddress, radix: 16))\(location)")
    }
    FaultHandler.die(signal: signal, message: "pagelift: internal error: host \(FaultHandler.signalName(signal)) at host address 0x\(String(address, radix: 16))")
}
