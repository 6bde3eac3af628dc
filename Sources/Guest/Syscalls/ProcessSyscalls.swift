#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall
import ELF

/// Processes: fork (as clone and clone3 without a shared address space), execve, wait, exit,
/// identities, groups and sessions, limits.
extension LinuxProcess {
    enum CloneFlags {
        static let vm: UInt64 = 0x100, vfork: UInt64 = 0x4000, thread: UInt64 = 0x10000
        static let setTLS: UInt64 = 0x80000, parentSetTID: UInt64 = 0x100000, childSetTID: UInt64 = 0x100_0000
        static let pidfd: UInt64 = 0x1000, sighand: UInt64 = 0x800, childClearTID: UInt64 = 0x20_0000
    }

    static func defineProcessCalls(_ t: inout Table) {
        t.define(.exit, 1) { _, c in c.thread.outcome = .threadExit(c.int32(0)); return 0 }
        t.define(.exit_group, 1) { _, c in c.thread.outcome = .exit(c.int32(0)); return 0 }
        t.define(.set_tid_address, 1) { _, c in
            c.thread.clearChildTID = c[0]
            return Int64(hostThreadID())
        }
        t.define(.set_robust_list, 2) { _, c in
            guard c[1] == 24 else { return einval }  // sizeof(struct robust_list_head)
            c.thread.robustList = c[0]
            return 0
        }
        t.define(.get_robust_list, 3) { p, c in
            // Another thread's list is not this thread's to know; the own one is.
            guard c.int32(0) == 0 || c.int32(0) == hostThreadID() else { return -Int64(ESRCH) }
            guard p.buffer(c[1], 8, writable: true) != nil, p.buffer(c[2], 8, writable: true) != nil else { return efault }
            p.memory.store(c.thread.robustList, at: c[1])
            p.memory.store(UInt64(24), at: c[2])
            return 0
        }
        t.define(.futex, 6) { p, c in p.futex(c) }
        t.define(.clone, 5) { p, c in
            // RISC-V's order: flags, stack, parent_tid, tls, child_tid.
            p.clone(flags: c[0], stack: c[1], parentTID: c[2], tls: c[3], childTID: c[4], call: c, fallback: false)
        }
        t.define(.clone3, 2) { p, c in
            // struct clone_args { flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, ... }
            guard c[1] >= 64, let arguments = p.buffer(c[0], 64) else { return c[1] < 64 ? einval : efault }
            func field(_ index: Int) -> UInt64 { arguments.load(fromByteOffset: index * 8, as: UInt64.self) }
            let stack = field(5) == 0 ? 0 : field(5) &+ field(6)
            return p.clone(flags: field(0) | (field(4) & 0xff), stack: stack, parentTID: field(3), tls: field(7), childTID: field(2),
                           call: c, fallback: true)
        }
        t.define(.execve, 3) { p, c in p.execve(c[0], argv: c[1], envp: c[2], directory: nil, flags: 0) }
        t.define(.execveat, 5) { p, c in p.execve(c[1], argv: c[2], envp: c[3], directory: c.int32(0), flags: c.int32(4)) }
        // The wait status, struct rusage and siginfo_t have one layout on both.
        t.passthrough(.wait4, SYS_wait4, [.value, .pointer, .value, .pointer])
        t.passthrough(.waitid, SYS_waitid, [.value, .value, .pointer, .value, .pointer])
        t.define(.getpid, 0) { _, _ in Int64(getpid()) }
        t.define(.getppid, 0) { _, _ in Int64(getppid()) }
        t.define(.gettid, 0) { _, _ in Int64(hostThreadID()) }
        t.passthrough(.getuid, SYS_getuid, [])
        t.passthrough(.geteuid, SYS_geteuid, [])
        t.passthrough(.getgid, SYS_getgid, [])
        t.passthrough(.getegid, SYS_getegid, [])
        t.passthrough(.getresuid, SYS_getresuid, [.pointer, .pointer, .pointer])
        t.passthrough(.getresgid, SYS_getresgid, [.pointer, .pointer, .pointer])
        t.passthrough(.setuid, SYS_setuid, [.value])
        t.passthrough(.setgid, SYS_setgid, [.value])
        t.passthrough(.setreuid, SYS_setreuid, [.value, .value])
        t.passthrough(.setregid, SYS_setregid, [.value, .value])
        t.passthrough(.setresuid, SYS_setresuid, [.value, .value, .value])
        t.passthrough(.setresgid, SYS_setresgid, [.value, .value, .value])
        t.passthrough(.setfsuid, SYS_setfsuid, [.value])
        t.passthrough(.setfsgid, SYS_setfsgid, [.value])
        t.passthrough(.getgroups, SYS_getgroups, [.value, .pointer])
        t.passthrough(.setgroups, SYS_setgroups, [.value, .pointer])
        t.passthrough(.setpgid, SYS_setpgid, [.value, .value])
        t.passthrough(.getpgid, SYS_getpgid, [.value])
        t.passthrough(.getsid, SYS_getsid, [.value])
        t.passthrough(.setsid, SYS_setsid, [])
        t.passthrough(.getpriority, SYS_getpriority, [.value, .value])
        t.passthrough(.setpriority, SYS_setpriority, [.value, .value, .value])
        // struct rlimit, struct rusage and __user_cap_data_struct have one layout on both.
        t.passthrough(.prlimit64, SYS_prlimit64, [.value, .value, .pointer, .pointer])
        t.passthrough(.getrlimit, SYS_getrlimit, [.value, .pointer])
        t.passthrough(.setrlimit, SYS_setrlimit, [.value, .pointer])
        t.passthrough(.getrusage, SYS_getrusage, [.value, .pointer])
        t.passthrough(.capget, SYS_capget, [.pointer, .pointer])
        t.passthrough(.capset, SYS_capset, [.pointer, .pointer])
        t.define(.personality, 1) { _, c in
            // PER_LINUX, and nothing else can be asked for.
            c[0] == 0xffff_ffff || c[0] == 0 ? 0 : einval
        }
        t.define(.prctl, 5) { p, c in p.prctl(c) }
    }

    private func prctl(_ c: Call) -> Int64 {
        switch c.int32(0) {
        case 15, 16:                 // PR_SET_NAME, PR_GET_NAME: 16 bytes
            guard buffer(c[1], 16, writable: c.int32(0) == 16) != nil else { return Self.efault }
            return forward(SYS_prctl, [.value, .pointer], c)
        case 2:                      // PR_GET_PDEATHSIG: an int
            return forward(SYS_prctl, [.value, .pointer], c)
        case 1, 3, 4, 36, 37, 38, 39, 23, 24, 47:
            // PDEATHSIG, DUMPABLE, CHILD_SUBREAPER, NO_NEW_PRIVS, CAPBSET_READ/DROP, CAP_AMBIENT: values.
            return forward(SYS_prctl, [.value, .value, .value, .value, .value], c)
        default:
            return Self.einval
        }
    }

    /// futex: the host's, on the host address of the guest's word (guest memory is host memory,
    /// so guest threads wait and wake each other as host threads do, and PI futexes hold the
    /// guest's tids, which are the host's). The fourth argument is a timeout for the waits and
    /// a count (val2) for the requeues and WAKE_OP.
    func futex(_ c: Call) -> Int64 {
        let operation = c.int32(1) & 0x7f  // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
        let timeout: Argument, second: Argument
        switch operation {
        case 0, 9, 6, 13: timeout = .pointer; second = .value       // WAIT, WAIT_BITSET, LOCK_PI, LOCK_PI2
        case 11: timeout = .pointer; second = .pointer              // WAIT_REQUEUE_PI
        case 1, 10, 7, 8: timeout = .value; second = .value         // WAKE, WAKE_BITSET, UNLOCK_PI, TRYLOCK_PI
        case 3, 4, 5, 12: timeout = .value; second = .pointer       // REQUEUE, CMP_REQUEUE, WAKE_OP, CMP_REQUEUE_PI
        default: return unsupported(c, "futex operation \(operation)")
        }
        guard memory.inBounds(c[0], 4), second == .value || memory.inBounds(c[4], 4) else { return Self.efault }
        return forward(SYS_futex, [.pointer, .value, .value, timeout, second, .value], c)
    }

    /// What a thread leaves when it ends, as the kernel does: its robust futexes marked
    /// FUTEX_OWNER_DIED with a waiter woken, and its clear-child-tid word zeroed and woken
    /// (what pthread_join waits on).
    public func endThread(_ thread: ThreadState) {
        releaseRobustFutexes(thread)
        let address = thread.clearChildTID
        if address != 0, buffer(address, 4, writable: true) != nil {
            memory.store(UInt32(0), at: address)
            _ = Self.hostSyscall(SYS_futex, Int(bitPattern: memory.host(address)), 1, Int(Int32.max))  // FUTEX_WAKE
        }
    }

    /// struct robust_list_head { next, futex_offset, list_op_pending }: each entry's futex word
    /// lies at entry + futex_offset.
    private func releaseRobustFutexes(_ thread: ThreadState) {
        let head = thread.robustList
        guard head != 0, buffer(head, 24) != nil else { return }
        let offset = Int64(bitPattern: memory.load(head + 8, as: UInt64.self))
        let pending = memory.load(head + 16, as: UInt64.self) & ~1
        let tid = UInt32(bitPattern: hostThreadID())
        func release(_ entry: UInt64) {
            let word = UInt64(bitPattern: Int64(bitPattern: entry) &+ offset)
            guard word & 3 == 0, buffer(word, 4, writable: true) != nil else { return }
            let value = memory.load(word, as: UInt32.self)
            guard value & 0x3fff_ffff == tid else { return }
            memory.store((value & 0x8000_0000) | 0x4000_0000, at: word)  // FUTEX_WAITERS kept, FUTEX_OWNER_DIED
            if value & 0x8000_0000 != 0 { _ = Self.hostSyscall(SYS_futex, Int(bitPattern: memory.host(word)), 1, 1) }
        }
        var entry = memory.load(head, as: UInt64.self) & ~1
        var visited = 0
        while entry != head, entry != 0, visited < 2048, buffer(entry, 8) != nil {
            let next = memory.load(entry, as: UInt64.self) & ~1
            if entry != pending { release(entry) }
            entry = next
            visited += 1
        }
        if pending != 0 { release(pending) }
    }

    /// fork, vfork and posix_spawn: a new process without a shared address space is a fork of
    /// the translator, translations included (as under qemu-user, `CLONE_VM|CLONE_VFORK` is a
    /// fork too: the parent does not wait, and sees nothing the child writes). A new thread
    /// (`CLONE_VM|CLONE_THREAD`) is a new host thread running the guest from a copy of the
    /// caller's registers (see `ProcessHooks.startThread`).
    private func clone(flags: UInt64, stack: UInt64, parentTID: UInt64, tls: UInt64, childTID: UInt64, call: Call, fallback: Bool) -> Int64 {
        let sharesMemory = flags & CloneFlags.vm != 0 && flags & CloneFlags.vfork == 0
        if flags & CloneFlags.thread != 0 {
            guard sharesMemory, flags & CloneFlags.sighand != 0 else { return Self.einval }
            return startThread(flags: flags, stack: stack, parentTID: parentTID, tls: tls, childTID: childTID, call: call)
        }
        if sharesMemory {
            // A process sharing memory without being a thread (CLONE_VM alone): no host equivalent here.
            return fallback ? -Int64(ENOSYS) : unsupported(call, "CLONE_VM without CLONE_THREAD or CLONE_VFORK")
        }
        if flags & CloneFlags.pidfd != 0 { return fallback ? -Int64(ENOSYS) : unsupported(call, "CLONE_PIDFD") }
        hooks.prepareFork()
        let pid = fork()
        if pid < 0 {
            let code = errno
            hooks.afterFork(false)
            return -Int64(code)
        }
        if pid == 0 {
            memory.reinitializeAfterFork()
            images.reinitializeAfterFork()
            lock.reinitialize()
            addressSpaceLock.reinitialize()
            hooks.afterFork(true)
            let cpu = call.cpu
            if stack != 0 { cpu[x: 2] = stack }
            if flags & CloneFlags.setTLS != 0 { cpu[x: 4] = tls }
            if flags & CloneFlags.childSetTID != 0, buffer(childTID, 4, writable: true) != nil { memory.store(UInt32(hostThreadID()), at: childTID) }
            if flags & CloneFlags.childClearTID != 0 { cpu.thread.clearChildTID = childTID }
            return 0
        }
        hooks.afterFork(false)
        if flags & CloneFlags.parentSetTID != 0, buffer(parentTID, 4, writable: true) != nil { memory.store(UInt32(pid), at: parentTID) }
        return Int64(pid)
    }

    /// A new guest thread: the caller's registers with the new stack and tls, a0 = 0, going on
    /// after the ecall; its tid is written where CLONE_PARENT_SETTID and CLONE_CHILD_SETTID say
    /// before either thread goes on.
    private func startThread(flags: UInt64, stack: UInt64, parentTID: UInt64, tls: UInt64, childTID: UInt64, call: Call) -> Int64 {
        let cpu = call.cpu.copy(thread: call.thread.forNewThread())
        if stack != 0 { cpu[x: 2] = stack }
        if flags & CloneFlags.setTLS != 0 { cpu[x: 4] = tls }
        cpu[x: 10] = 0
        cpu.pc = call.cpu.pc &+ 4
        if flags & CloneFlags.childClearTID != 0 { cpu.thread.clearChildTID = childTID }
        let memory = self.memory
        let result = hooks.startThread(cpu) { tid in
            if flags & CloneFlags.parentSetTID != 0, memory.isMapped(parentTID, 4, needs: PROT_WRITE) { memory.store(UInt32(tid), at: parentTID) }
            if flags & CloneFlags.childSetTID != 0, memory.isMapped(childTID, 4, needs: PROT_WRITE) { memory.store(UInt32(tid), at: childTID) }
        }
        return result < 0 ? -Int64(-result) : Int64(result)
    }
}

/// The host thread's id (the guest thread's, one for one).
public func hostThreadID() -> Int32 { Int32(truncatingIfNeeded: LinuxProcess.hostSyscall(SYS_gettid)) }
