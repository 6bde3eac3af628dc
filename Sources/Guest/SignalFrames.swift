#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// Guest signal handlers: a riscv64 Linux signal frame (`struct rt_sigframe`: siginfo, then a
/// ucontext whose mcontext holds pc, x1..x31, f0..f31 and fcsr) built on the guest stack, and
/// `rt_sigreturn` restoring everything from it, a pc or registers the handler changed included.
/// Signals are delivered when a syscall returns: one the guest raises itself at once, one from
/// the host (another process, a timer, a child's end) at the syscall it interrupts or the next.
/// The `si_code`s of synchronous faults, as the kernel sets them.
public enum FaultCode {
    public static let illegalOpcode: Int32 = 1   // ILL_ILLOPC
    public static let breakpoint: Int32 = 1      // TRAP_BRKPT
    public static let mapError: Int32 = 1        // SEGV_MAPERR
    public static let accessError: Int32 = 2     // SEGV_ACCERR
    public static let busAddressError: Int32 = 2 // BUS_ADRERR

    /// SIGSEGV's code for `address`: unmapped, or mapped without the access's permission.
    public static func segmentation(at address: UInt64, in memory: GuestMemory) -> Int32 {
        memory.isMapped(address, 1, needs: 0) ? accessError : mapError
    }
}

enum SignalFrame {
    /// Where the page holding the return trampoline (`li a7, 139; ecall`) is mapped: the
    /// kernel's vDSO does the same job.
    static let trampoline: UInt64 = 0x3f_fff0_0000
    static let size: UInt64 = 128 + 960
    static let contextOffset: UInt64 = 128
    /// Offsets in the ucontext.
    static let stackOffset: UInt64 = 16, maskOffset: UInt64 = 40, machineOffset: UInt64 = 176
    static let floatOffset: UInt64 = 256, fcsrOffset: UInt64 = 512

    static let onStack: UInt64 = 0x0800_0000, restart: UInt64 = 0x1000_0000, noDefer: UInt64 = 0x4000_0000, resetHandler: UInt64 = 0x8000_0000
    static let siginfoFlag: UInt64 = 4

    static func map(into memory: GuestMemory) throws(GuestError) {
        try memory.map(trampoline, GuestMemory.pageSize, protection: PROT_READ | PROT_WRITE, name: "[vdso]")
        memory.store(UInt32(0x08b0_0893), at: trampoline)      // addi a7, zero, 139 (rt_sigreturn)
        memory.store(UInt32(0x0000_0073), at: trampoline + 4)  // ecall
        try memory.protect(trampoline, GuestMemory.pageSize, protection: PROT_READ | PROT_EXEC)
    }
}

extension LinuxProcess {
    /// Syscalls the kernel restarts after a handler that has SA_RESTART (its ERESTARTSYS ones);
    /// the others return EINTR.
    static let restartable: Set<Int> = [SyscallNumber.read, .write, .readv, .writev, .pread64, .pwrite64, .preadv, .pwritev,
                                        .openat, .wait4, .waitid, .accept, .accept4, .connect, .recvfrom, .sendto, .recvmsg,
                                        .sendmsg, .flock, .fcntl, .ioctl, .splice, .sendfile, .msgsnd, .msgrcv, .futex]
        .reduce(into: []) { $0.insert($1.rawValue) }

    /// The guest's mask as the host thread's, so that a signal the guest blocks stays pending in
    /// the host kernel (where sigpending and sigtimedwait find it) and interrupts nothing.
    func applySignalMaskToHost(_ thread: ThreadState) {
        _ = pagelift_set_host_signal_mask(Self.hostMask(thread.signalMask))
    }

    /// A guest signal mask as the host's, less the signals the translator keeps for itself.
    static func hostMask(_ mask: UInt64) -> UInt64 {
        translatorSignals.reduce(mask) { $0 & ~bit(Int($1)) }
    }

    /// siginfo for a signal the guest sent itself.
    func ownSignalInformation(_ signal: Int32, code: Int32) -> [UInt8] {
        var info = [UInt8](repeating: 0, count: 128)
        info.withUnsafeMutableBytes {
            $0.storeBytes(of: signal, as: Int32.self)
            $0.storeBytes(of: code, toByteOffset: 8, as: Int32.self)
            $0.storeBytes(of: getpid(), toByteOffset: 16, as: Int32.self)
            $0.storeBytes(of: getuid(), toByteOffset: 20, as: UInt32.self)
        }
        return info
    }

    /// After a syscall: takes the signals the host recorded, and delivers the lowest one the
    /// guest does not block by building its frame and pointing the CPU at its handler. `cpu.pc`
    /// is where the guest goes on. Returns whether control moved.
    func deliverPendingSignal(_ cpu: CPUState, interrupted call: Call?, result: Int64) -> Bool {
        let thread = cpu.thread
        let recorded = pagelift_take_recorded_signals()
        for signal in 1...64 where recorded & Self.bit(signal) != 0 {
            var info = [UInt8](repeating: 0, count: 128)
            info.withUnsafeMutableBytes { pagelift_recorded_signal_info(Int32(signal), $0.baseAddress) }
            thread.pendingSignals[signal] = info
        }
        guard let signal = thread.pendingSignals.keys.filter({ thread.signalMask & Self.bit($0) == 0 }).min(),
              let info = thread.pendingSignals.removeValue(forKey: signal) else { return false }
        guard let action = lock.withLock({ signalActions[signal] }), action.handler > 1 else {
            // The handler was taken away meanwhile: the signal's action now is the one it has.
            guard takesDefaultAction(Int32(signal)) else { return false }
            thread.outcome = .signal(Int32(signal))
            return true
        }
        // A slow call the signal interrupted is restarted after the handler, or fails with EINTR.
        if let call, result == -Int64(EINTR), action.flags & SignalFrame.restart != 0, Self.restartable.contains(call.number) {
            cpu.pc -= 4
            cpu[x: 10] = call[0]
        }
        let savedMask = thread.maskToRestore ?? thread.signalMask
        thread.maskToRestore = nil
        guard buildFrame(cpu, signal: Int32(signal), info: info, action: action, savedMask: savedMask) else {
            // No room for the frame: the kernel kills with SIGSEGV.
            thread.outcome = .signal(SIGSEGV)
            return true
        }
        return true
    }

    /// A synchronous fault (an access, an instruction fetch, an illegal instruction, ebreak)
    /// at the instruction `cpu.pc`, every register exact there: as the kernel's force_sig_fault,
    /// the guest's handler gets it in a frame with `si_code` and `si_addr`, unless the signal is
    /// blocked or ignored, which a fault cannot be: then its default action ends the process.
    /// Returns whether a handler got it (the guest goes on at `cpu.pc`).
    public func deliverFault(_ cpu: CPUState, signal: Int32, code: Int32, address: UInt64) -> Bool {
        guard let action = faultAction(cpu, signal: signal) else { return false }
        var info = [UInt8](repeating: 0, count: 128)
        info.withUnsafeMutableBytes {
            $0.storeBytes(of: signal, as: Int32.self)
            $0.storeBytes(of: code, toByteOffset: 8, as: Int32.self)
            $0.storeBytes(of: address, toByteOffset: 16, as: UInt64.self)
        }
        let thread = cpu.thread
        let savedMask = thread.maskToRestore ?? thread.signalMask
        thread.maskToRestore = nil
        // No room for the frame: the kernel kills with SIGSEGV.
        return buildFrame(cpu, signal: signal, info: info, action: action, savedMask: savedMask)
    }

    /// Whether the guest has a handler for `signal` that a fault would reach.
    public func handlesFault(_ cpu: CPUState, signal: Int32) -> Bool { faultAction(cpu, signal: signal) != nil }

    /// The guest's handler for a fault by `signal`, if it has one and does not block the signal.
    private func faultAction(_ cpu: CPUState, signal: Int32) -> (handler: UInt64, flags: UInt64, mask: UInt64)? {
        guard cpu.thread.signalMask & Self.bit(Int(signal)) == 0, let action = lock.withLock({ signalActions[Int(signal)] }),
              action.handler > 1 else { return nil }
        return action
    }

    private func buildFrame(_ cpu: CPUState, signal: Int32, info: [UInt8], action: (handler: UInt64, flags: UInt64, mask: UInt64),
                            savedMask: UInt64) -> Bool {
        let thread = cpu.thread
        let stack = thread.alternateSignalStack
        let altEnabled = stack.flags & 2 == 0 && stack.size > 0  // not SS_DISABLE
        var sp = cpu[x: 2]
        let onAlternate = altEnabled && sp > stack.sp && sp <= stack.sp + stack.size
        if action.flags & SignalFrame.onStack != 0, altEnabled, !onAlternate { sp = stack.sp + stack.size }
        let frame = (sp &- SignalFrame.size) & ~15
        guard buffer(frame, SignalFrame.size, writable: true) != nil else { return false }
        memory.write(info, at: frame)
        let context = frame + SignalFrame.contextOffset
        memory.write([UInt8](repeating: 0, count: 960), at: context)
        memory.store(stack.sp, at: context + SignalFrame.stackOffset)
        memory.store(UInt32(onAlternate ? 1 : (altEnabled ? 0 : 2)), at: context + SignalFrame.stackOffset + 8)
        memory.store(stack.size, at: context + SignalFrame.stackOffset + 16)
        memory.store(savedMask, at: context + SignalFrame.maskOffset)
        let machine = context + SignalFrame.machineOffset
        memory.store(cpu.pc, at: machine)
        for index in 1..<32 { memory.store(cpu[x: index], at: machine + UInt64(index * 8)) }
        for index in 0..<32 { memory.store(cpu[f: index], at: machine + SignalFrame.floatOffset + UInt64(index * 8)) }
        memory.store(cpu.fcsr, at: machine + SignalFrame.fcsrOffset)

        cpu[x: 1] = SignalFrame.trampoline
        cpu[x: 2] = frame
        cpu[x: 10] = UInt64(signal)
        cpu[x: 11] = frame
        cpu[x: 12] = context
        cpu.pc = action.handler
        thread.signalMask |= action.mask | (action.flags & SignalFrame.noDefer == 0 ? Self.bit(Int(signal)) : 0)
        thread.signalMask &= ~(Self.bit(Int(SIGKILL)) | Self.bit(Int(SIGSTOP)))
        applySignalMaskToHost(thread)
        if action.flags & SignalFrame.resetHandler != 0 { setAction(Int(signal), (0, 0, 0)) }
        return true
    }

    /// rt_sigreturn: the registers, pc, mask and alternate stack from the frame at sp.
    func signalReturn(_ cpu: CPUState) -> Int64 {
        let thread = cpu.thread
        let frame = cpu[x: 2]
        guard buffer(frame, SignalFrame.size) != nil else {
            thread.outcome = .signal(SIGSEGV)
            return 0
        }
        let context = frame + SignalFrame.contextOffset, machine = context + SignalFrame.machineOffset
        for index in 1..<32 { cpu[x: index] = memory.load(machine + UInt64(index * 8), as: UInt64.self) }
        for index in 0..<32 { cpu[f: index] = memory.load(machine + SignalFrame.floatOffset + UInt64(index * 8), as: UInt64.self) }
        cpu.fcsr = memory.load(machine + SignalFrame.fcsrOffset, as: UInt32.self)
        cpu.pc = memory.load(machine, as: UInt64.self)
        thread.signalMask = memory.load(context + SignalFrame.maskOffset, as: UInt64.self) & ~(Self.bit(Int(SIGKILL)) | Self.bit(Int(SIGSTOP)))
        applySignalMaskToHost(thread)
        let flags = UInt64(memory.load(context + SignalFrame.stackOffset + 8, as: UInt32.self))
        if flags & 1 == 0 {
            thread.alternateSignalStack = (memory.load(context + SignalFrame.stackOffset, as: UInt64.self), flags,
                                    memory.load(context + SignalFrame.stackOffset + 16, as: UInt64.self))
        }
        thread.outcome = .redirect
        return 0
    }
}
