#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// Signals: actions, masks, sending, waiting and returning from handlers. A guest handler is
/// the host's too in the sense that the host signal is recorded for it (`pagelift_record_signal`)
/// and delivered in a riscv64 frame (`SignalFrame`); ignoring and the default are the host's
/// own dispositions, and the guest's mask is the host thread's, so pending, sigtimedwait and
/// signalfd are the host kernel's.
extension LinuxProcess {
    static func defineSignalCalls(_ t: inout Table) {
        t.define(.rt_sigaction, 4) { p, c in p.sigaction(c) }
        t.define(.rt_sigprocmask, 4) { p, c in p.sigprocmask(c) }
        t.passthrough(.rt_sigpending, SYS_rt_sigpending, [.pointer, .value])
        t.passthrough(.rt_sigtimedwait, SYS_rt_sigtimedwait, [.pointer, .pointer, .pointer, .value])
        t.passthrough(.rt_sigqueueinfo, SYS_rt_sigqueueinfo, [.value, .value, .pointer])
        t.passthrough(.rt_tgsigqueueinfo, SYS_rt_tgsigqueueinfo, [.value, .value, .value, .pointer])
        t.passthrough(.signalfd4, SYS_signalfd4, [.value, .pointer, .value, .value])
        t.define(.rt_sigsuspend, 2) { p, c in p.sigsuspend(c) }
        t.define(.rt_sigreturn, 0) { p, c in p.signalReturn(c.cpu) }
        t.define(.sigaltstack, 2) { p, c in
            // stack_t { void *sp; int flags; size_t size } has one layout on both.
            let sp = c.cpu[x: 2]
            let stack = c.thread.alternateSignalStack
            let onIt = stack.flags & 2 == 0 && stack.size > 0 && sp > stack.sp && sp <= stack.sp + stack.size
            if c[1] != 0 {
                guard p.buffer(c[1], 24, writable: true) != nil else { return efault }
                p.memory.store(stack.sp, at: c[1])
                p.memory.store(UInt64(onIt ? 1 : stack.flags), at: c[1] + 8)
                p.memory.store(stack.size, at: c[1] + 16)
            }
            if c[0] != 0 {
                guard p.buffer(c[0], 24) != nil else { return efault }
                guard !onIt else { return -Int64(EPERM) }
                let flags = UInt64(p.memory.load(c[0] + 8, as: UInt32.self)), size = p.memory.load(c[0] + 16, as: UInt64.self)
                guard flags & ~UInt64(2 | 0x8000_0000) == 0 else { return einval }
                guard flags & 2 != 0 || size >= 2048 else { return -Int64(ENOMEM) }  // MINSIGSTKSZ
                c.thread.alternateSignalStack = (p.memory.load(c[0], as: UInt64.self), flags, size)
            }
            return 0
        }
        t.define(.kill, 2) { p, c in p.raise(to: c.int32(0), thread: nil, signal: c.int32(1), c) }
        t.define(.tgkill, 3) { p, c in p.raise(to: c.int32(0), thread: c.int32(1), signal: c.int32(2), c) }
        t.define(.tkill, 2) { p, c in
            c.int32(0) == hostThreadID() ? p.raise(to: getpid(), thread: c.int32(0), signal: c.int32(1), c) : p.forward(SYS_tkill, [.value, .value], c)
        }
    }

    /// Signals the translator keeps for itself: its own faults, and those no one can catch.
    static let translatorSignals: Set<Int32> = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGKILL, SIGSTOP]

    private func sigaction(_ c: Call) -> Int64 {
        let signal = Int(clamping: c[0])
        guard signal >= 1, signal <= 64, signal != Int(SIGKILL), signal != Int(SIGSTOP) || c[1] == 0 else {
            return Self.einval
        }
        if c[2] != 0 {
            guard buffer(c[2], 24, writable: true) != nil else { return Self.efault }
            let old = lock.withLock { signalActions[signal] ?? (0, 0, 0) }
            memory.store(old.handler, at: c[2]); memory.store(old.flags, at: c[2] + 8)
            memory.store(old.mask, at: c[2] + 16)
        }
        if c[1] != 0 {
            guard buffer(c[1], 24) != nil else { return Self.efault }
            setAction(signal, (memory.load(c[1], as: UInt64.self), memory.load(c[1] + 8, as: UInt64.self),
                               memory.load(c[1] + 16, as: UInt64.self)))
        }
        return 0
    }

    /// Records the guest's action and gives the host the matching disposition: ignore, default,
    /// or recording the signal for the guest's handler (without SA_RESTART, so that a blocking
    /// call returns and the guest's own SA_RESTART decides).
    func setAction(_ signal: Int, _ action: (handler: UInt64, flags: UInt64, mask: UInt64)) {
        lock.withLock { signalActions[signal] = action }
        let hostSignal = Int32(signal)
        if (hostSignal == SIGSEGV || hostSignal == SIGBUS) && action.handler > 1 { hooks.faultHandlerInstalled() }
        guard !Self.translatorSignals.contains(hostSignal) else { return }
        FaultHandler.setHostDisposition(hostSignal, action.handler == 0 ? .standard : action.handler == 1 ? .ignore : .recordForGuest)
    }

    private func sigprocmask(_ c: Call) -> Int64 {
        guard c[3] == 8 else { return Self.einval }
        let thread = c.thread
        if c[2] != 0 {
            guard buffer(c[2], 8, writable: true) != nil else { return Self.efault }
            memory.store(thread.signalMask, at: c[2])
        }
        if c[1] != 0 {
            guard buffer(c[1], 8) != nil else { return Self.efault }
            // SIGKILL and SIGSTOP cannot be blocked.
            let set = memory.load(c[1], as: UInt64.self) & ~(Self.bit(Int(SIGKILL)) | Self.bit(Int(SIGSTOP)))
            switch c[0] {
            case 0: thread.signalMask |= set
            case 1: thread.signalMask &= ~set
            case 2: thread.signalMask = set
            default: return Self.einval
            }
            // A signal pending in the host and now unblocked is recorded (or takes its default
            // action) before this returns, and delivered as the call returns.
            applySignalMaskToHost(thread)
        }
        return 0
    }

    static func bit(_ signal: Int) -> UInt64 { 1 << UInt64(signal - 1) }

    /// rt_sigsuspend: waits with a temporary mask until a signal comes; its handler's frame saves
    /// the mask from before, which rt_sigreturn restores.
    private func sigsuspend(_ c: Call) -> Int64 {
        guard c[1] == 8 else { return Self.einval }
        guard buffer(c[0], 8) != nil else { return Self.efault }
        let thread = c.thread
        let old = thread.signalMask
        thread.signalMask = memory.load(c[0], as: UInt64.self) & ~(Self.bit(Int(SIGKILL)) | Self.bit(Int(SIGSTOP)))
        var set = Self.hostMask(thread.signalMask)
        // Returns when a signal was handled (recorded for the guest); a default action ends the process.
        // One the guest raised itself already waits.
        if !signalWaiting(thread) {
            _ = withUnsafePointer(to: &set) { Self.hostSyscall(SYS_rt_sigsuspend, Int(bitPattern: $0), 8) }
        }
        thread.maskToRestore = old
        if !signalWaiting(thread) {
            thread.signalMask = old
            thread.maskToRestore = nil
            applySignalMaskToHost(thread)
        }
        return -Int64(EINTR)
    }

    /// kill, tkill and tgkill. A signal for this thread, or for this process while this thread
    /// does not block it (abort's SIGABRT, raise), acts as the kernel's would: ignored, handled
    /// by the guest's handler as this call returns, or its default action, said on stderr if it
    /// dumps core. Any other is the host's to send: the host kernel picks the thread of a
    /// process that takes it, by the threads' masks, which are the guest threads'.
    private func raise(to target: Int32, thread: Int32?, signal: Int32, _ c: Call) -> Int64 {
        let own = target == getpid() && (thread == nil || thread == hostThreadID())
        let blocked = signal > 0 && signal <= 64 && c.thread.signalMask & Self.bit(Int(signal)) != 0
        guard own, !blocked || thread != nil else {
            if let thread { return Self.host(Self.hostSyscall(SYS_tgkill, Int(target), Int(thread), Int(signal))) }
            return Self.host(Glibc.kill(target, signal))
        }
        guard signal != 0 else { return 0 }
        guard signal > 0, signal <= 64 else { return Self.einval }
        if blocked {
            return Self.host(Self.hostSyscall(SYS_tgkill, Int(getpid()), Int(hostThreadID()), Int(signal)))
        }
        if lock.withLock({ signalActions[Int(signal)]?.handler ?? 0 }) > 1 {
            c.thread.pendingSignals[Int(signal)] = ownSignalInformation(signal, code: thread == nil ? 0 : -6)  // SI_USER, SI_TKILL
        } else if takesDefaultAction(signal) {
            c.thread.outcome = .signal(signal)
        }
        return 0
    }

    /// Whether `signal`, without a guest handler, ends the process: it is neither ignored nor
    /// one whose default is to be ignored.
    func takesDefaultAction(_ signal: Int32) -> Bool {
        let ignoredByDefault: Set<Int32> = [SIGCHLD, SIGURG, SIGWINCH, SIGCONT]
        let handler = lock.withLock { signalActions[Int(signal)]?.handler ?? 0 }
        return handler == 0 && !ignoredByDefault.contains(signal)
    }
}
