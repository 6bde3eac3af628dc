#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// Signals: actions and masks are recorded; a guest handler is not delivered yet (the next
/// step), so a signal takes its default action. Ignoring, and the default, are the host's too,
/// so that a guest that ignores SIGPIPE gets EPIPE, and children started by execve inherit both.
extension LinuxProcess {
    static func defineSignalCalls(_ t: inout Table) {
        t.define(.rt_sigaction, 4) { p, c in p.sigaction(c) }
        t.define(.rt_sigprocmask, 4) { p, c in p.sigprocmask(c) }
        t.define(.rt_sigpending, 2) { p, c in
            guard p.buffer(c[0], 8, writable: true) != nil else { return efault }
            p.memory.store(p.pendingSignals & p.signalMask, at: c[0])
            return 0
        }
        t.define(.sigaltstack, 2) { p, c in
            // stack_t { void *sp; int flags; size_t size } has one layout on both.
            if c[1] != 0 {
                guard p.buffer(c[1], 24, writable: true) != nil else { return efault }
                p.memory.store(p.alternateSignalStack.sp, at: c[1])
                p.memory.store(p.alternateSignalStack.flags, at: c[1] + 8)
                p.memory.store(p.alternateSignalStack.size, at: c[1] + 16)
            }
            if c[0] != 0 {
                guard p.buffer(c[0], 24) != nil else { return efault }
                p.alternateSignalStack = (p.memory.load(c[0], as: UInt64.self), UInt64(p.memory.load(c[0] + 8, as: UInt32.self)),
                                          p.memory.load(c[0] + 16, as: UInt64.self))
            }
            return 0
        }
        t.define(.kill, 2) { p, c in p.raise(to: c.int32(0), signal: c.int32(1)) }
        t.define(.tgkill, 3) { p, c in p.raise(to: c.int32(0), signal: c.int32(2)) }
        t.define(.tkill, 2) { p, c in p.raise(to: c.int32(0) == hostThreadID() ? getpid() : c.int32(0), signal: c.int32(1)) }
        for number in [SyscallNumber.rt_sigsuspend, .rt_sigtimedwait, .rt_sigqueueinfo, .rt_tgsigqueueinfo, .rt_sigreturn] {
            t.define(number, 4) { p, c in p.unsupported(c, "signal delivery is not implemented yet") }
        }
    }

    /// Signals the translator keeps for itself: its own faults, and those no one can catch.
    static let translatorSignals: Set<Int32> = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGKILL, SIGSTOP]

    private func sigaction(_ c: Call) -> Int64 {
        let signal = Int(c[0])
        guard signal >= 1, signal <= 64, signal != Int(SIGKILL), signal != Int(SIGSTOP) || c[1] == 0 else {
            return Self.einval
        }
        if c[2] != 0 {
            guard buffer(c[2], 24, writable: true) != nil else { return Self.efault }
            let old = signalActions[signal] ?? (0, 0, 0)
            memory.store(old.handler, at: c[2]); memory.store(old.flags, at: c[2] + 8)
            memory.store(old.mask, at: c[2] + 16)
        }
        if c[1] != 0 {
            guard buffer(c[1], 24) != nil else { return Self.efault }
            let action = (handler: memory.load(c[1], as: UInt64.self), flags: memory.load(c[1] + 8, as: UInt64.self),
                          mask: memory.load(c[1] + 16, as: UInt64.self))
            signalActions[signal] = action
            let hostSignal = Int32(signal)
            if !Self.translatorSignals.contains(hostSignal), signal < 32 {
                // A handler cannot run yet: SIGPIPE's then lets the write fail with EPIPE, as a
                // program that handles it expects; others keep their default.
                let ignored = action.handler == 1 || (action.handler > 1 && hostSignal == SIGPIPE)
                Glibc.signal(hostSignal, ignored ? SIG_IGN : SIG_DFL)
            }
        }
        return 0
    }

    private func sigprocmask(_ c: Call) -> Int64 {
        if c[2] != 0 {
            guard buffer(c[2], 8, writable: true) != nil else { return Self.efault }
            memory.store(signalMask, at: c[2])
        }
        if c[1] != 0 {
            guard buffer(c[1], 8) != nil else { return Self.efault }
            // SIGKILL and SIGSTOP cannot be blocked.
            let set = memory.load(c[1], as: UInt64.self) & ~(1 << UInt64(SIGKILL - 1) | 1 << UInt64(SIGSTOP - 1))
            switch c[0] {
            case 0: signalMask |= set
            case 1: signalMask &= ~set
            case 2: signalMask = set
            default: return Self.einval
            }
            // A pending signal now unblocked takes effect.
            let unblocked = pendingSignals & ~signalMask
            if let signal = (1...64).first(where: { unblocked & Self.bit($0) != 0 }) {
                pendingSignals &= ~Self.bit(signal)
                return deliver(Int32(signal))
            }
        }
        return 0
    }

    static func bit(_ signal: Int) -> UInt64 { 1 << UInt64(signal - 1) }

    /// A signal for this process (abort's SIGABRT, raise) takes its default action, or none if
    /// ignored; one for another process is the host's kill.
    private func raise(to target: Int32, signal: Int32) -> Int64 {
        guard target == getpid() else { return Self.host(Glibc.kill(target, signal)) }
        guard signal != 0 else { return 0 }
        guard signal > 0, signal <= 64 else { return Self.einval }
        if signalMask & Self.bit(Int(signal)) != 0 {
            pendingSignals |= Self.bit(Int(signal))
            return 0
        }
        return deliver(signal)
    }

    /// A signal for this process that is not blocked: its action, which without a guest handler
    /// delivered (not implemented yet) is the default one.
    private func deliver(_ signal: Int32) -> Int64 {
        let ignoredByDefault: Set<Int32> = [SIGCHLD, SIGURG, SIGWINCH, SIGCONT]
        let action = signalActions[Int(signal)]?.handler ?? 0
        if action == 1 || (action == 0 && ignoredByDefault.contains(signal)) { return 0 }
        if action > 1 {
            FaultHandler.writeError("pagelift: guest signal handlers are not delivered yet; \(FaultHandler.signalName(signal)) takes its default action\n")
        }
        outcome = .signal(signal)
        return 0
    }
}
